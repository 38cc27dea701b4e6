/*
 * `String.matches(regex)` in bounded time. Java's regex and JavaScript's
 * RegExp both backtrack, and a pattern such as `(a+)+$` takes exponential time
 * on a crafted input; the engine runs on the server's only thread, so a slow
 * match would stall every request. What is accepted (checked at deployment
 * when the pattern is a literal, else at the call):
 *
 *  - no quantified group holding a quantifier or an alternation (`(a+)+`,
 *    `(a|ab)*`): the exponential cases; a group made optional by `?` is fine;
 *  - at most 3 unbounded quantifiers (`*`, `+`, `{n,}`), and an input of at
 *    most 1000 characters: what is left is polynomial, at worst about 1000³/6
 *    steps;
 *  - none of the constructs Java and JavaScript read differently, or that
 *    JavaScript lacks: possessive quantifiers (`a*+`), atomic and flag groups
 *    (`(?>…)`, `(?i)`), look-arounds, back-references, `\p{…}` classes
 *    (`\p{javaLowerCase}`, `\p{Alpha}`), `\A \Z \z \G \Q…\E \h \R \X`, and
 *    class unions and intersections (`[a-z&&[^e]]`, `[a[b]]`).
 *
 * Java's `matches` matches the whole input, so the pattern is anchored.
 */

export const MAX_MATCH_INPUT = 1000;
const MAX_UNBOUNDED = 3;
const SIMPLE_ESCAPES = /[dDwWsSbBtnrf.\\^$|?*+()[\]{}\-/]/;

/** Why `pattern` is refused, or null when it is accepted. */
export function regexProblem(pattern: string): string | null {
  // One frame per open group: whether it holds a quantifier or an alternation.
  const groups: { risky: boolean }[] = [{ risky: false }];
  let unbounded = 0;
  let lastWasGroup: { risky: boolean } | null = null;
  let atom = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const quantified = (end: number, bounded: boolean): string | null => {
      if (!atom) return `nothing to repeat at ${i}`;
      if (pattern[end + 1] === '+') return 'possessive quantifiers (a*+) are not supported';
      if (!bounded) unbounded++;
      if (lastWasGroup?.risky && !(c === '?')) return 'a repeated group holding a repetition or an alternation (e.g. (a+)+) can take exponential time';
      groups[groups.length - 1]!.risky = true;
      atom = false;
      lastWasGroup = null;
      return null;
    };
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return 'the pattern ends in a backslash';
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(pattern.slice(i + 2, i + 6))) i += 5;
      else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(pattern.slice(i + 2, i + 4))) i += 3;
      else if (/[1-9]/.test(e)) return 'back-references are not supported';
      else if (/[A-Za-z]/.test(e) && !SIMPLE_ESCAPES.test(e)) return `\\${e} is not supported (Java and JavaScript read it differently)`;
      else i++;
      atom = true; lastWasGroup = null;
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        if (pattern[j] === '\\') {
          const e = pattern[j + 1] ?? '';
          if (/[A-Za-z]/.test(e) && !SIMPLE_ESCAPES.test(e) && e !== 'u' && e !== 'x') return `\\${e} is not supported (Java and JavaScript read it differently)`;
          j++;
        } else if (pattern[j] === '[' || (pattern[j] === '&' && pattern[j + 1] === '&')) {
          return 'character class unions and intersections ([a[b]], [a&&b]) are not supported';
        }
      }
      if (j >= pattern.length) return 'unclosed character class';
      i = j;
      atom = true; lastWasGroup = null;
    } else if (c === '(') {
      if (pattern[i + 1] === '?' && pattern[i + 2] !== ':') return 'only (…) and (?:…) groups are supported (no look-arounds, atomic, named or flag groups)';
      if (pattern[i + 1] === '?') i += 2;
      groups.push({ risky: false });
      atom = false; lastWasGroup = null;
    } else if (c === ')') {
      if (groups.length < 2) return 'unbalanced )';
      const closed = groups.pop()!;
      if (closed.risky) groups[groups.length - 1]!.risky = true;
      atom = true; lastWasGroup = closed;
    } else if (c === '|') {
      groups[groups.length - 1]!.risky = true;
      atom = false; lastWasGroup = null;
    } else if (c === '*' || c === '+' || c === '?') {
      const why = quantified(i, c === '?');
      if (why) return why;
      if (pattern[i + 1] === '?') i++; // lazy
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) return `a { at ${i} that is not a repetition; write \\{`;
      const end = i + m[0].length - 1;
      const why = quantified(end, m[2] === undefined || m[3] !== '');
      if (why) return why;
      i = end;
      if (pattern[i + 1] === '?') i++;
    } else {
      atom = true; lastWasGroup = null;
    }
    if (unbounded > MAX_UNBOUNDED) return `more than ${MAX_UNBOUNDED} unbounded repetitions (*, +, {n,})`;
  }
  if (groups.length > 1) return 'unclosed (';
  try {
    new RegExp(pattern);
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}

const compiled = new Map<string, RegExp>();

/** Java's `input.matches(pattern)`; throws (with the reason) for a refused pattern or a too long input. */
export function javaMatches(input: string, pattern: string): boolean {
  if (input.length > MAX_MATCH_INPUT) throw new Error(`matches() is bounded to inputs of ${MAX_MATCH_INPUT} characters; this one has ${input.length}`);
  let re = compiled.get(pattern);
  if (!re) {
    const why = regexProblem(pattern);
    if (why) throw new Error(`regex "${pattern}" refused: ${why}`);
    re = new RegExp(`^(?:${pattern})$`);
    if (compiled.size >= 500) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re.test(input);
}
