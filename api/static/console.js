// The agents' inbox, live: an EventSource on /console/events tells each ticket event (its
// log position as the event id, its kind and ticket number); the list is then fetched
// again through htmx with the page's own filters, once the inbox has read that position,
// and the news is said in the page's status region. The browser resumes a dropped stream
// itself, sending the last id it saw (Last-Event-ID).
(function () {
  "use strict";
  var list = document.getElementById("inbox-list");
  if (!list || !window.EventSource) {
    return;
  }
  var announcer = document.getElementById("announcer");
  var liveStatus = document.getElementById("live-status");
  var params = new URLSearchParams(window.location.search);
  var onFirstPage = !params.has("cursor");
  var pending = null;
  var latest = 0;
  var news = [];

  function say(template, number) {
    return (template || "").replace("{number}", number);
  }

  function refresh() {
    pending = null;
    var query = new URLSearchParams(window.location.search);
    query.delete("cursor");
    query.set("fragment", "1");
    query.set("min_position", String(latest));
    var told = news.join(". ");
    news = [];
    if (!onFirstPage) {
      announcer.textContent = told;
      return;
    }
    htmx.ajax("GET", "/console?" + query.toString(), { target: "#inbox-list", swap: "outerHTML" })
      .then(function () {
        announcer.textContent = told;
      });
  }

  function heard(message) {
    var event;
    try {
      event = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    var position = parseInt(message.lastEventId, 10);
    if (position > latest) {
      latest = position;
    }
    if (event.kind === "Ticket.Opened") {
      news.push(say(announcer.dataset.newTicket, event.number));
    } else if (event.kind === "Ticket.MessageAdded") {
      news.push(say(announcer.dataset.newReply, event.number));
    }
    if (pending === null) {
      pending = window.setTimeout(refresh, 150);
    }
  }

  var after = list.dataset.position || "0";
  var source = new EventSource("/console/events?after=" + encodeURIComponent(after));
  source.onmessage = heard;
  source.onopen = function () {
    liveStatus.textContent = liveStatus.dataset.live;
    document.documentElement.dataset.live = "on";
  };
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      liveStatus.textContent = liveStatus.dataset.offline;
      document.documentElement.dataset.live = "off";
    }
  };
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
