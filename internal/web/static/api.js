// fbs: the API page draws the OpenAPI document with Redoc (vendored in
// redoc-2.5.4/, MIT) in the pages' own fonts and colours. The page's
// Content-Security-Policy keeps it to this server: Redoc's footer logo
// would come from Redocly's CDN, and its default fonts are Google's.
(function () {
  var el = document.getElementById("redoc");
  var sans = "system-ui, sans-serif";
  Redoc.init(el.dataset.specUrl, {
    theme: {
      colors: { primary: { main: "#294172" } },
      typography: { fontFamily: sans, headings: { fontFamily: sans }, code: { fontFamily: "monospace" } },
    },
    expandResponses: "200,201",
    sortTagsAlphabetically: false,
  }, el);
})();
