// The warning before an idle session ends: templates/auth/_session_timeout.html says what and
// why. Our own small script rather than hmrc-frontend's timeout dialog, which renews the
// session by a GET, signs out by following a link (our sign-out is a POST with a CSRF token),
// counts from when the page loaded instead of asking the server, and sends the browser away
// when the time is up (losing what was typed, which the portal now keeps for the next save).
//
// The page says how many seconds its session had left when it was made; before warning, the
// script asks the server (GET, which does not renew the session) how long is really left,
// since another tab may have renewed it. Strings come from the page and the server, in the
// page's language; a number of minutes or seconds takes its words by Intl.PluralRules.

const RENEWED_KEY = "portal-session-renewed";

const dialog = document.querySelector("[data-module='portal-session-timeout']");
if (dialog && typeof dialog.showModal === "function") {
  watch(dialog);
}

function watch(dialog) {
  const data = dialog.dataset;
  const warnMs = Number(data.warnSeconds) * 1000;
  const heading = dialog.querySelector("h2");
  const countdown = dialog.querySelector("[data-countdown]");
  const announce = dialog.querySelector("[data-announce]");
  const keepAlive = dialog.querySelector("form[data-keep-alive]");
  const plural = new Intl.PluralRules(document.documentElement.lang || "en");
  let expiresAt = Date.now() + Number(data.secondsLeft) * 1000;
  let units = null;
  let timer = 0;
  let ended = false;
  let announced = "";
  let returnFocus = null;

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(0, expiresAt - warnMs - Date.now()));
  }

  async function ask(url, options) {
    try {
      const response = await fetch(url, {
        credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json" }, ...options,
      });
      const json = response.headers.get("Content-Type")?.startsWith("application/json");
      return json ? await response.json() : { signed_in: false };
    } catch {
      return null; // no answer (offline): ask again shortly
    }
  }

  async function check() {
    window.clearTimeout(timer);
    const answer = await ask(data.statusUrl);
    if (answer === null) {
      timer = window.setTimeout(check, 10000);
      if (dialog.open) tick();
      return;
    }
    if (!answer.signed_in || answer.seconds_left <= 0) {
      showEnded();
      return;
    }
    units = answer.units || units;
    expiresAt = Date.now() + answer.seconds_left * 1000;
    if (answer.seconds_left * 1000 > warnMs + 1000) { // renewed, here or in another tab
      close();
      schedule();
      return;
    }
    open();
    tick();
  }

  function words(seconds) {
    const [count, unit] = seconds >= 60 ? [Math.ceil(seconds / 60), "minute"] : [seconds, "second"];
    const forms = units?.[unit] || {};
    const pattern = forms[plural.select(count)] || forms.other || `{n} ${unit}s`;
    return data.countdownText.replace("{time}", pattern.replace("{n}", String(count)));
  }

  // What a screen reader is told: each whole minute, then every 15 seconds (not every second).
  function spoken(seconds) {
    return words(seconds >= 60 ? seconds : Math.max(15, Math.ceil(seconds / 15) * 15));
  }

  function tick() {
    window.clearTimeout(timer);
    const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
    if (left === 0) {
      check(); // ended, or renewed in another tab
      return;
    }
    countdown.textContent = words(left);
    const text = spoken(left);
    if (text !== announced) {
      announce.textContent = text;
      announced = text;
    }
    timer = window.setTimeout(tick, ((expiresAt - Date.now()) % 1000) || 1000);
  }

  function open() {
    if (dialog.open) return;
    returnFocus = document.activeElement;
    dialog.showModal();
    dialog.setAttribute("aria-modal", "true");
    dialog.focus(); // the heading and the time left are read first
  }

  function close() {
    if (!dialog.open) return;
    dialog.close();
    dialog.removeAttribute("aria-modal");
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  }

  function showEnded() {
    window.clearTimeout(timer);
    ended = true;
    heading.textContent = data.endedHeading;
    countdown.textContent = data.endedText;
    announce.textContent = data.endedText;
    dialog.querySelectorAll("[data-active]").forEach((part) => { part.hidden = true; });
    dialog.querySelectorAll("[data-ended]").forEach((part) => { part.hidden = false; });
    open();
  }

  async function stay() {
    const answer = await ask(keepAlive.action, { method: "POST", body: new FormData(keepAlive) });
    if (answer === null) return; // no answer: the dialog stays, so the person can try again
    if (!answer.signed_in) {
      showEnded();
      return;
    }
    expiresAt = Date.now() + answer.seconds_left * 1000;
    // A token as young as the session: the forms of a page kept open for long still save.
    if (answer.csrf_token) {
      document.querySelectorAll("input[name='csrf_token']").forEach((input) => {
        input.value = answer.csrf_token;
      });
    }
    try {
      window.localStorage.setItem(RENEWED_KEY, String(Date.now()));
    } catch {
      // storage refused: other tabs find out when they ask the server
    }
    close();
    schedule();
  }

  keepAlive.addEventListener("submit", (event) => {
    event.preventDefault();
    stay();
  });
  dialog.querySelector("[data-close]").addEventListener("click", close);
  // Escape: "Stay signed in" while that is possible (as HMRC's), else just close.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (ended) close();
    else stay();
  });
  // Another tab renewed the session: ask the server, which closes the warning here.
  window.addEventListener("storage", (event) => {
    if (event.key === RENEWED_KEY && !ended) check();
  });
  // Timers of a hidden tab are slowed: look again when it is shown.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !ended
        && (dialog.open || Date.now() >= expiresAt - warnMs)) check();
  });
  schedule();
}
