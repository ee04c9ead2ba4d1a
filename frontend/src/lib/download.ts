/**
 * Saving a file the app fetched itself. A plain `<a href download>` cannot send the bearer token, so
 * the app fetches the file, then hands the browser a Blob URL through a temporary `<a download>`.
 */

/** How long the Blob URL outlives the click: the browser reads it asynchronously. */
const REVOKE_AFTER_MS = 60_000;

export function saveBlob(blob: Blob, filename: string, doc: Document = document): void {
  const url = URL.createObjectURL(blob);
  const link = doc.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  link.hidden = true;
  doc.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}
