/** DOM helpers shared by the app's pages. */

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Shows a line in the page's #status; an error is also kept in `app.error`, where tests and bench/web read it. */
export function showStatus(app: { error: string }, text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.className = error ? 'error' : '';
  if (error) app.error = text;
}

/** The loading line of a model download. */
export function loadingText(model: string, loaded: number, total?: number): string {
  return `loading model ${model}… ${(loaded / 2 ** 20).toFixed(1)}${total ? ` / ${(total / 2 ** 20).toFixed(1)}` : ''} MiB`;
}
