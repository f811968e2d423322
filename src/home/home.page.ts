/** The demo page (filled by the sign-in work: provider buttons, who you are, errors in words). */
export function renderHomePage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Social auth demo</title></head><body><main><h1>Social auth demo</h1></main></body></html>`;
}
