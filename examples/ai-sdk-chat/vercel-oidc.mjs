// @vercel/oidc's browser entry (node_modules/@vercel/oidc/dist/index-browser.js), as an ES module:
// that package ships CommonJS only, which a browser cannot import without a bundler. The `ai`
// package's gateway provider imports it; a chat in the browser never calls it (it is the
// Vercel AI Gateway's login), and its browser build returns no token either.
export function getContext() {
  return globalThis[Symbol.for("@vercel/request-context")]?.get?.() ?? {};
}

export async function getVercelOidcToken() {
  return "";
}
