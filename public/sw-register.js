// Registers the service worker. An external file (not inline) so the Content-Security-Policy
// needs no exception for it.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((err) => {
      console.warn("Flightdeck: service worker registration failed", err);
    });
  });
}
