// Swagger UI over this app's OpenAPI document. A file of its own, not an inline script: the
// page's Content-Security-Policy runs only scripts from this origin.
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    domNode: root,
    deepLinking: true,             // /docs#/streams/... opens that operation
    validatorUrl: null,            // the default badge asks validator.swagger.io: nothing leaves this app
    persistAuthorization: false,   // the admin token stays in this tab's memory, never in localStorage
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,   // the ~60 schemas stay folded under "Schemas" until opened
    docExpansion: "list",
  });
})();
