// Runs before the first paint (a classic, blocking script in <head>), kept
// out of the page so the Content-Security-Policy needs no inline script.
// It applies the theme saved by the toggle, so a light-theme user on a dark
// OS never sees a dark flash; and it turns the loss of the page's stream,
// which only shows in the client's datastar-sse events, into a signal patch
// ($_live = false) for the connection badge. A 401 on any of the page's
// requests means its session ended (signed out, revoked, expired): the
// client would only stop, so the page goes to the sign-in form instead.
try {
	var t = localStorage.getItem("theme");
	if (t === "dark" || t === "light") document.documentElement.dataset.theme = t;
} catch (e) {}
document.addEventListener("datastar-sse", function (e) {
	var d = e.detail;
	if (d.type === "error" && d.argsRaw && d.argsRaw.status === "401") {
		location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
		return;
	}
	if (d.elId === "stream" && /^(retrying|error|finished|retries-failed)$/.test(d.type))
		document.dispatchEvent(new CustomEvent("datastar-sse", {
			detail: { type: "datastar-merge-signals", elId: "stream", argsRaw: { signals: "{_live:false}" } },
		}));
});
