/**
 * Text from input echoed in a message (a path, a segment, a field name) with its control
 * characters escaped (`\n`, `\u001b`, ...), so a message never moves the cursor, clears a screen
 * or forges a log line.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => {
    const short = JSON.stringify(char).slice(1, -1);
    return short.length > 1 ? short : `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}
