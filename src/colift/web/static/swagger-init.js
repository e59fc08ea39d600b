// Starts Swagger UI on /api/v1/docs from the assets served by this server (no CDN, no inline
// script: the page keeps the app's Content-Security-Policy).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
