// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:configRequest", function (event) {
  // Django's LocaleMiddleware answers partials in the page's language.
  event.detail.headers["Accept-Language"] = document.documentElement.lang || "en";
});
