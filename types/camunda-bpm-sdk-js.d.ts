// Camunda's JS SDK ships no types; the tests drive it as a black box through its Node client.
declare module 'camunda-bpm-sdk-js' {
  /** One REST resource of the SDK (task, filter, user, …): its methods take (params, done) and return a Q promise. */
  export type Resource = Record<string, (...args: any[]) => PromiseLike<any>>;
  export class Client {
    constructor(config: { apiUri: string; mock?: boolean; engine?: string | false; headers?: Record<string, string> });
    baseUrl: string;
    resource(name: string): Resource;
  }
  export const utils: Record<string, unknown>;
}
