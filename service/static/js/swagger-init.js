// Starts Swagger UI on /docs (service/api/docs.py); a file, not an inline script,
// so the page's Content-Security-Policy can forbid inline scripts.
"use strict";
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null, // never send the API description's address to validator.swagger.io
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
});
