/**
 * Which field an API error is about, so the form can show the message next
 * to it. The server's validators word their messages "<Field.Path> must ..."
 * (fieldError in orchestrator/control/input.ts) or "missing required parameter
 * <Field.Path>". Imports nothing: the unit test runs it against the server's
 * own messages.
 */
export function errorField(message: string): string | undefined {
  const missing = /^missing required parameter ([A-Za-z0-9_.]+)/.exec(message);
  if (missing) return missing[1];
  const m = /^([A-Z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*) (?:must|is|has|uses)\b/.exec(message);
  return m?.[1];
}
