// Starts Swagger UI on the spec URL the page names (kept out of the HTML for the CSP).
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true });
