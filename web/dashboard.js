// The wall screen: polls /api/v1/stats/overview (?year= passed on) and
// /api/v1/stats/dual-prevention with If-None-Match and redraws only when
// the figures change. The display key comes in the
// address (#key=…) once and is kept in sessionStorage, never in a cookie
// or localStorage. Every text is set with textContent.

const KEY = "ht_display_key";
const params = new URLSearchParams(location.hash.slice(1));
if (params.get("key")) {
  sessionStorage.setItem(KEY, params.get("key"));
  history.replaceState(null, "", location.pathname + location.search);
}
const key = sessionStorage.getItem(KEY);
const query = new URLSearchParams(location.search);
// Every 3 s by default: an unchanged answer is a cheap 304, and a change
// shows within 5 s.
const seconds = Math.max(2, Number(query.get("interval")) || 3);
// ?year=2024 shows one year's hazards; by default all of them, with this
// year's months.
const year = /^\d{4}$/.test(query.get("year") || "") ? query.get("year") : null;
const overview = year ? `/api/v1/stats/overview?year=${year}` : "/api/v1/stats/overview";

// The glossary (terms.json): each term once, as the workspace and the
// service's exports name it.
const TERMS = await fetch("/app/assets/terms.json").then((reply) => reply.json());
const SOURCES = TERMS.sources;
const GRADES = [
  ...Object.entries(TERMS.grades).map(([code, name]) => [code, name, TERMS.grade_risks[code]]),
  ["not_assessed", "未评估", ""],
];
const STATES = Object.fromEntries(["reported", "rectifying", "pending_acceptance", "closed"].map((code) => [code, TERMS.states[code]]));

const $ = (selector) => document.querySelector(selector);
let etag = null;

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function status(text) {
  $("#status").textContent = text;
}

function draw(o) {
  // The tiles count every hazard kept (or the year asked for); say which.
  for (const node of document.querySelectorAll(".tile .period")) {
    node.textContent = year ? `${year}年` : "累计";
  }
  for (const node of document.querySelectorAll("[data-figure]")) {
    const name = node.dataset.figure;
    const value = o[name];
    node.textContent = name === "rectification_rate" ? `${Number(value).toFixed(1)}%` : String(value);
  }
  const major = $('[data-figure="major_open"]');
  major.classList.toggle("zero", o.major_open === 0);
  major.classList.toggle("nonzero", o.major_open !== 0);

  // Found by each kind of check (open and closed), with what is still open.
  const sources = Object.keys(SOURCES).map((code) => {
    const counts = o.by_source[code] || {};
    return [code, (counts.open || 0) + (counts.closed || 0), counts.open || 0];
  });
  const widest = Math.max(1, ...sources.map(([, found]) => found));
  $("#sources").replaceChildren(
    ...sources.map(([code, found, open]) => {
      const row = element("li");
      const track = element("span", undefined, { class: "track", "aria-hidden": "true" });
      track.append(element("span", undefined, { class: "fill" }));
      track.firstChild.style.width = `${(100 * found) / widest}%`;
      const label = open ? `${found} 条（未整改 ${open}）` : `${found} 条`;
      row.append(element("span", SOURCES[code]), track, element("span", label, { class: "count" }));
      return row;
    }),
  );

  const grades = o.enterprises_per_grade || {};
  $("#grades").replaceChildren(
    ...GRADES.map(([code, name, meaning]) => {
      const item = element("li", undefined, { "data-grade": code });
      item.append(element("span", name, { class: "name" }), element("span", meaning, { class: "meaning" }), element("span", grades[code] ?? 0, { class: "count" }));
      return item;
    }),
  );

  const worst = [...o.by_enterprise]
    .filter((e) => e.overdue > 0)
    .sort((a, b) => b.overdue - a.overdue)
    .slice(0, 5);
  $("#overdue-enterprises").replaceChildren(
    ...(worst.length
      ? worst.map((e) => {
          const item = element("li");
          item.append(element("span", e.name), element("span", `${e.overdue} 条逾期`));
          return item;
        })
      : [element("li", "无逾期隐患")]),
  );

  // This year's hazards, month by month.
  const months = o.found_per_month.months;
  const highest = Math.max(1, ...months);
  $("#months-title").textContent = `${o.found_per_month.year}年各月发现隐患`;
  $("#months").replaceChildren(
    ...months.map((n, i) => {
      const item = element("li", undefined, { "aria-label": `${i + 1}月 ${n} 条` });
      // The count sits on its column; the tallest column leaves it room.
      const slot = element("span", undefined, { class: "slot", "aria-hidden": "true" });
      const column = element("span", undefined, { class: "column" });
      column.style.height = `${(85 * n) / highest}%`;
      slot.append(element("span", n, { class: "count" }), column);
      item.append(slot, element("span", `${i + 1}月`, { class: "month" }));
      return item;
    }),
  );

  $("#majors").replaceChildren(
    ...(o.newest_major.length
      ? o.newest_major.map((m) => {
          const item = element("li", undefined, { "data-state": m.state });
          const what = element("span");
          what.append(element("strong", m.enterprise_name), element("small", ` ${m.number} · ${m.found_on}`));
          item.append(what, element("span", STATES[m.state] ?? m.state, { class: "state" }));
          return item;
        })
      : [element("li", "暂无重大隐患")]),
  );
}

const LEVELS = Object.entries(TERMS.risk_levels);
const GRADE_NAMES = ["一级", "二级", "三级", "四级"];
const KINDS = TERMS.persons;

const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

function chips(list, pairs) {
  list.replaceChildren(
    ...pairs.map(([code, name, count]) => {
      const item = element("li", undefined, { "data-level": code });
      item.append(element("span", name, { class: "name" }), element("span", count, { class: "count" }));
      return item;
    }),
  );
}

function drawPrevention(b) {
  const c = b.checks;
  const checked = c.today.done_on_time + c.today.done_late;
  $("#dp-today").textContent = `${checked} / ${c.today.planned - c.today.paused}`;
  $("#dp-month-rate").textContent = percent(c.month.completion_rate);
  $("#dp-missed").textContent = `本月漏查 ${c.month.missed} 次 · 重大、较大风险单元 ${c.missed_on_serious_units} 次`;
  chips($("#dp-levels"), LEVELS.map(([code, name]) => [code, `${name}单元`, c.units_by_level[code]]));
  $("#dp-units").replaceChildren(
    ...(c.serious_units.length
      ? c.serious_units.slice(0, 4).map((u) => {
          const item = element("li", undefined, { "data-level": u.level });
          item.append(element("span", `${u.enterprise_name} · ${u.unit_name}`), element("span", u.level === "major" ? "重大" : "较大", { class: "state" }));
          return item;
        })
      : [element("li", "暂无重大、较大风险单元")]),
  );

  const m = b.major_sources;
  chips($("#bb-grades"), GRADE_NAMES.map((name, i) => [`grade-${i + 1}`, name, m.sources_by_grade[i]]));
  $("#bb-kinds").replaceChildren(
    ...m.kinds.map((k) => {
      const o = k.occurrences;
      const done = o.done_on_time + o.done_late;
      const settled = done + o.missed;
      const row = element("li");
      const track = element("span", undefined, { class: "track", "aria-hidden": "true" });
      track.append(element("span", undefined, { class: "fill" }));
      track.firstChild.style.width = `${settled ? (100 * done) / settled : 0}%`;
      row.append(element("span", KINDS[k.kind] ?? k.label), track, element("span", `${percent(o.completion_rate)} · 漏查 ${o.missed}`, { class: "count" }));
      return row;
    }),
  );
  $("#bb-attention").replaceChildren(
    ...(m.attention.length
      ? m.attention.slice(0, 3).map((a) => {
          const why = [
            ...a.missing.map((k) => `缺${KINDS[k]}`),
            ...a.behind.map((k) => `${KINDS[k]}漏查`),
          ].join("、");
          const item = element("li");
          item.append(element("span", `${a.enterprise_name} · ${a.name}`), element("span", why, { class: "state" }));
          return item;
        })
      : [element("li", m.sources ? "包保责任人齐全，均按期履职" : "暂无重大危险源")]),
  );
  for (const panel of document.querySelectorAll(".prevention, .baobao")) panel.hidden = false;
}

// The dual-prevention panels: their own ETag; a failure leaves them as
// they were.
let boardTag = null;
async function pollBoard(headers) {
  const asked = { ...headers };
  delete asked["If-None-Match"];
  if (boardTag) asked["If-None-Match"] = boardTag;
  try {
    const answer = await fetch("/api/v1/stats/dual-prevention", { headers: asked, cache: "no-store" });
    if (answer.ok) {
      boardTag = answer.headers.get("ETag");
      drawPrevention(await answer.json());
    }
  } catch {
    // The overview's status line tells of a broken link.
  }
}

async function poll() {
  const headers = { Authorization: `Bearer ${key}`, "Accept-Language": "zh-CN" };
  pollBoard(headers);
  if (etag) headers["If-None-Match"] = etag;
  try {
    const answer = await fetch(overview, { headers, cache: "no-store" });
    if (answer.status === 304) {
      status(`已是最新 · ${new Date().toLocaleTimeString("zh-CN")}`);
    } else if (answer.ok) {
      etag = answer.headers.get("ETag");
      draw(await answer.json());
      $("#board").hidden = false;
      status(`已更新 · ${new Date().toLocaleTimeString("zh-CN")}`);
    } else if (answer.status === 401 || answer.status === 403) {
      sessionStorage.removeItem(KEY);
      $("#board").hidden = true;
      $("#signin").hidden = false;
      status("大屏密钥已失效");
      return;
    } else {
      status(`暂时无法更新（${answer.status}），稍后重试`);
    }
  } catch {
    status("网络中断，稍后重试");
  }
  setTimeout(poll, seconds * 1000);
}

if (key) {
  poll();
} else {
  $("#signin").hidden = false;
  status("未连接");
}
