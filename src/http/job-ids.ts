/*
 * Camunda's job definition ids and configurations for this server's timers,
 * shared by GET /job, /job-definition and /history/job-log so that a job's
 * jobDefinitionId is an id GET /job-definition/{id} knows.
 */

/** An instance timer's job definition: `timer:<definition id>:<activity id>`. */
export const jobDefinitionIdOf = (definitionId: string, activityId: string) => `timer:${definitionId}:${activityId}`;

/** A start timer's job definition: `timer-start:<definition id>:<event id>`. */
export const startJobDefinitionIdOf = (definitionId: string, eventId: string) => `timer-start:${definitionId}:${eventId}`;

/** `<kind>:<definition id>:<activity id>` split in three; definition ids contain colons themselves. */
export function splitJobDefinition(id: string): [string, string, string] {
  const first = id.indexOf(':');
  const last = id.lastIndexOf(':');
  return first < 0 || last <= first ? [id, '', ''] : [id.slice(0, first), id.slice(first + 1, last), id.slice(last + 1)];
}

/** Camunda's timer job configuration: `DURATION: PT5M`, `DATE: …`, `CYCLE: R3/PT1H`. */
export const jobConfiguration = (timerType: string, expression: string | null) =>
  `${timerType === 'timeCycle' ? 'CYCLE' : timerType === 'timeDate' ? 'DATE' : 'DURATION'}: ${expression ?? ''}`;
