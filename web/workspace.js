// The workspace of the park's people (/app/): sign-in, the open items by
// deadline, a hazard's page with its photos, the 五到位 plan, "after"
// photos from the phone's camera, submission, acceptance or rejection, an
// extension request and the history; and the supervisor's desk: the
// acceptance queue with before and after photos side by side, extension
// decisions and the enterprises whose assessment or inspection falls due;
// and the new-hazard form for the field, photos and all, which works
// offline: the service worker (sw.js) keeps the pages, the capture waits
// in IndexedDB with its photos and is sent when the network returns, each
// request under an Idempotency-Key so nothing arrives twice. Every action is a call to the documented
// /api/v1 API. The token is kept in sessionStorage (gone when the tab
// closes), never in a cookie or localStorage; every text is set with
// textContent.

const TOKEN = "ht_token";
const $ = (selector) => document.querySelector(selector);

// The glossary (terms.json): each term once, the names the service's
// mails and exports give too.
const TERMS = await fetch("/app/assets/terms.json").then((reply) => reply.json());
const STATES = TERMS.states;
const LEVELS = TERMS.levels;
const ROLES = TERMS.roles;
const ACTIONS = TERMS.actions;
const GRADES = Object.fromEntries(Object.entries(TERMS.grades).map(([code, name]) => [code, `${name}（${TERMS.grade_risks[code]}）`]));
const DUE = TERMS.due;
const CHECK_STATUS = TERMS.check_status;
// A 包保责任人's duty check: the kind of person whose published duties it
// covers.
const DUTY_KINDS = {
  duty_principal: "principal",
  duty_technical: "technical",
  duty_operational: "operational",
};
// The roles that read the register and the major hazard sources.
const REGISTER_ROLES = ["enterprise", "expert", "supervisor", "admin"];
const PERSON_KINDS = TERMS.persons;
// The roles with a duty list (今日排查).
const CHECK_ROLES = ["enterprise", "expert", "supervisor", "admin"];
// The roles the desk is for: those who accept rectifications.
const DESK_ROLES = ["supervisor", "expert"];
// The roles that report hazards (an enterprise contact: its self-checks).
const REPORTING_ROLES = ["expert", "supervisor", "admin", "enterprise"];

let vocabulary = { categories: {}, specialties: {}, sources: {} };
let enterpriseNames = {};
let me = null;
let current = null;
const photoUrls = [];

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// The page (its address) the notice on show belongs to: another page
// does not show it.
let noticeFor = null;

/// Says `text` at the top of the page `hash` (this one by default), and
/// brings it into view: the eye is wherever the action was.
function notice(text, hash = location.hash) {
  const slot = $("#notice");
  slot.textContent = text || "";
  noticeFor = text ? hash : null;
  if (text) toast(text);
  else $("#toast").hidden = true;
}

/// The notice again where the eye is: at the bottom of the screen for a
/// few seconds, whatever was scrolled (the notice itself is what screen
/// readers announce; taps pass through the toast).
let toastTimer = null;
function toast(text) {
  const node = $("#toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 5000);
}

/// A problem+json answer, thrown by `api`.
class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.errors = (body && body.errors) || {};
  }
}

async function api(path, { method = "GET", json, form, raw = false, key } = {}) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(TOKEN)}`, "accept-language": "zh-CN" };
  if (key) headers["idempotency-key"] = key;
  let body;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
    headers["idempotency-key"] ??= crypto.randomUUID();
  }
  let reply;
  try {
    reply = await fetch(`/api/v1${path}`, { method, headers, body });
  } catch (error) {
    linkState(false);
    throw error;
  }
  linkState(true);
  if (reply.status === 401) {
    signOut("登录已过期，请重新登录。");
    throw new Problem(401, null);
  }
  if (!reply.ok) {
    let problem = null;
    try {
      problem = await reply.json();
    } catch {
      problem = null;
    }
    throw new Problem(reply.status, problem);
  }
  if (raw) return reply;
  return reply.status === 204 ? null : reply.json();
}

/// Whether the service answers: the offline banner when it does not. An
/// answer may come from the browser's cache, so the banner goes only
/// once the service itself answers.
function linkState(up) {
  const banner = $("#offline");
  if (!up) banner.hidden = false;
  else if (!banner.hidden) {
    fetch("/healthz", { cache: "no-store" }).then(
      (reply) => (banner.hidden = reply.ok),
      () => (banner.hidden = false),
    );
  }
}

function show(view) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  $("#signout").hidden = view === "signin";
  $("#nav").hidden = view === "signin";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === `#/${view}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function signOut(message) {
  sessionStorage.clear();
  me = null;
  $("#who").textContent = "";
  go("#/signin");
  notice(message || "已退出登录。");
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  $("#signin-error").textContent = "";
  const reply = await fetch("/api/v1/auth/token", {
    method: "POST",
    headers: { "content-type": "application/json", "accept-language": "zh-CN" },
    body: JSON.stringify({ email: form.email.value.trim(), password: form.password.value }),
  });
  if (!reply.ok) {
    $("#signin-error").textContent =
      reply.status === 429 ? "尝试次数过多，请稍后再试。" : "邮箱或密码不正确。";
    return;
  }
  const { access_token: token } = await reply.json();
  sessionStorage.setItem(TOKEN, token);
  form.password.value = "";
  notice("");
  go("#/mine");
}

/// Goes to `hash`, showing it again when it is the current one.
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/// A reference answer, from the network when it answers, else the copy
/// kept in this tab's sessionStorage (so the capture page works offline).
async function reference(path) {
  const slot = `ht_ref:${path}`;
  try {
    const value = await api(path);
    sessionStorage.setItem(slot, JSON.stringify(value));
    return value;
  } catch (problem) {
    const kept = sessionStorage.getItem(slot);
    if (problem instanceof Problem || kept === null) throw problem;
    return JSON.parse(kept);
  }
}

async function whoAmI() {
  if (me) return me;
  me = await reference("/auth/me");
  const vocabularies = await reference("/reference/vocabularies");
  for (const kind of ["categories", "specialties", "sources"]) {
    vocabulary[kind] = Object.fromEntries(vocabularies[kind].map((v) => [v.code, v.label]));
  }
  $("#who").textContent = `${me.name}（${ROLES[me.role] || me.role}）`;
  $("#nav-desk").hidden = !DESK_ROLES.includes(me.role);
  $("#nav-new").hidden = !REPORTING_ROLES.includes(me.role);
  $("#nav-checks").hidden = !CHECK_ROLES.includes(me.role);
  $("#nav-sources").hidden = !REGISTER_ROLES.includes(me.role);
  $("#nav-register").hidden = !REGISTER_ROLES.includes(me.role);
  // The park's people see whose each item is; a contact, only its own.
  enterpriseNames = {};
  if (me.role !== "enterprise") {
    const { items } = await reference("/enterprises?limit=500");
    enterpriseNames = Object.fromEntries(items.map((e) => [e.id, e.name]));
  }
  return me;
}

/// The open items the caller may see: overdue first, then by deadline.
async function showMine() {
  // The filters asked for: a state (else the open ones; with a search,
  // every state, closed ones too), level, kind of check, overdue, text.
  const form = $("#filter-form");
  if (form.source.options.length === 0) {
    options(form.source, Object.entries(vocabulary.sources), "全部");
    const states = ["reported", "rectifying", "pending_acceptance", "closed"];
    options(form.state, states.map((code) => [code, STATES[code]]), "未销号");
    options(form.level, Object.entries(LEVELS), "全部");
  }
  const asked = new URLSearchParams({ limit: "500" });
  for (const name of ["level", "source", "overdue"]) if (form[name].value) asked.set(name, form[name].value);
  const q = form.q.value.trim();
  if (q) asked.set("q", q);
  const states = form.state.value ? [form.state.value] : q ? [null] : ["reported", "rectifying", "pending_acceptance"];
  const pages = await Promise.all(
    states.map((state) => {
      const query = new URLSearchParams(asked);
      if (state) query.set("state", state);
      return api(`/hazards?${query}`);
    }),
  );
  const items = pages.flatMap((page) => page.items);
  // Which of them were sent back, and which wait on an extension.
  const [sentBack, extending] = await Promise.all(
    ["rejected", "pending_extension"].map((flag) =>
      api(`/hazards?${flag}=true&limit=500`).then((page) => new Set(page.items.map((h) => h.id))),
    ),
  );
  items.sort(
    (a, b) => Number(b.overdue) - Number(a.overdue) || a.deadline.localeCompare(b.deadline) || a.number.localeCompare(b.number),
  );
  const list = $("#items");
  if (items.length === 0) {
    const filtered = q || [...asked.keys()].length > 1 || form.state.value;
    list.replaceChildren(element("li", filtered ? "没有符合条件的隐患。" : "没有未销号的隐患。", { class: "empty" }));
    return;
  }
  list.replaceChildren(
    ...items.map((h) => {
      // The whole card is the link: a thumb may land anywhere on it.
      const row = element("li", undefined, { "data-state": h.state });
      const link = element("a", undefined, { href: `#/hazard/${h.id}` });
      const head = element("span", undefined, { class: "head" });
      head.append(element("strong", h.title), element("span", h.number, { class: "number" }));
      const meta = element("span", undefined, { class: "meta" });
      meta.append(
        element("span", STATES[h.state] || h.state, { class: "state" }),
        element("span", `期限 ${h.deadline}`),
        element("span", LEVELS[h.level] || h.level, { class: `level ${h.level}` }),
      );
      if (me.role !== "enterprise" && enterpriseNames[h.enterprise_id]) meta.append(element("span", enterpriseNames[h.enterprise_id], { class: "chip" }));
      if (extending.has(h.id)) meta.prepend(element("span", "延期审批中", { class: "badge extension" }));
      if (sentBack.has(h.id)) meta.prepend(element("span", "被驳回", { class: "badge rejected" }));
      if (h.overdue) meta.prepend(element("span", `已逾期 ${daysSince(h.deadline)} 天`, { class: "badge overdue" }));
      link.append(head, meta);
      row.append(link);
      return row;
    }),
  );
}

function fact(list, term, value) {
  list.append(element("dt", term), element("dd", value ?? "—"));
}

/// The hazard's photos of one phase, as list items (files by name).
async function photoItems(id, phase, items) {
  const mine = items.filter((a) => a.phase === phase);
  if (mine.length === 0) return [element("li", "暂无", { class: "empty" })];
  return Promise.all(
    mine.map(async (a) => {
      const item = element("li");
      if (a.content_type.startsWith("image/")) {
        const blob = await (await api(`/attachments/${a.id}`, { raw: true })).blob();
        const url = URL.createObjectURL(blob);
        photoUrls.push(url);
        item.append(element("img", undefined, { src: url, alt: `${phase === "before" ? "整改前" : "整改后"}照片 ${a.file_name}` }));
      } else {
        item.append(element("span", a.file_name));
      }
      return item;
    }),
  );
}

async function attachments(id) {
  return (await api(`/hazards/${id}/attachments?limit=100`)).items;
}

async function loadPhotos(id) {
  for (const url of photoUrls.splice(0)) URL.revokeObjectURL(url);
  const items = await attachments(id);
  for (const phase of ["before", "after"]) $(`#photos-${phase}`).replaceChildren(...(await photoItems(id, phase, items)));
}

/// A moment as the park reads it: `2026-12-06 19:16`.
function when(at) {
  const d = new Date(at);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/// Who did a step: name and role.
function actor(e) {
  const role = ROLES[e.actor_role] || e.actor_role;
  return e.actor_name ? `${e.actor_name}（${role}）` : role;
}

/// The history, each step with who did it and when.
function showHistory(events) {
  $("#history").replaceChildren(
    ...events.map((e) => {
      const item = element("li");
      item.append(
        element("strong", ACTIONS[e.action] || e.action),
        element("span", actor(e), { class: "who" }),
        element("span", when(e.occurred_at), { class: "when" }),
      );
      if (e.entered_late) item.append(element("span", "补录", { class: "badge" }));
      if (e.note) item.append(element("p", e.note));
      return item;
    }),
  );
}

/// The enterprise's name: from the directory, or read once for a contact.
async function enterpriseName(id) {
  if (!enterpriseNames[id]) {
    const enterprise = await api(`/enterprises/${id}`);
    enterpriseNames[id] = enterprise.name;
  }
  return enterpriseNames[id];
}

/// Whole days from `day` (YYYY-MM-DD) to today, in the park's calendar.
function daysSince(day) {
  const today = new Date();
  const start = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  const [y, m, d] = day.split("-").map(Number);
  return Math.round((start - Date.UTC(y, m - 1, d)) / 86400000);
}

async function showHazard(id) {
  const [h, { origin }, { items: events }, { items: extensions }] = await Promise.all([
    api(`/hazards/${id}`),
    api(`/hazards/${id}/check-origin`),
    api(`/hazards/${id}/events?limit=500`),
    api(`/hazards/${id}/extensions?limit=100`),
  ]);
  current = h;
  $("#hazard-title").textContent = `${h.number} ${h.title}`;
  // The last rejection, while the work it sent back is still open.
  const rejected = [...events].reverse().find((e) => e.action === "reject");
  const banner = $("#rejection");
  banner.hidden = !(rejected && h.state === "rectifying");
  if (!banner.hidden) {
    banner.textContent = `被驳回：${rejected.note || "未写明理由"}（${actor(rejected)}，${when(rejected.occurred_at)}）`;
  }
  const facts = $("#facts");
  facts.replaceChildren();
  fact(facts, "企业", await enterpriseName(h.enterprise_id));
  const overdue = h.overdue ? `（已逾期 ${daysSince(h.deadline)} 天）` : "";
  fact(facts, "状态", `${STATES[h.state] || h.state}${overdue}`);
  fact(facts, "级别", LEVELS[h.level] || h.level);
  if (h.major_basis_code) {
    const criteria = await reference("/reference/major-hazard-criteria");
    const item = criteria.items.find((c) => c.code === h.major_basis_code);
    fact(facts, "判定依据", `121号文第${h.major_basis_code}条${item ? `：${item.text}` : ""}`);
  }
  fact(facts, "整改期限", `${h.deadline}${overdue}`);
  const pending = extensions.find((e) => e.state === "pending");
  if (pending) fact(facts, "延期申请", `申请延至 ${pending.requested_deadline}，待园区审批（理由：${pending.reason}）`);
  const report = events.find((e) => e.action === "report");
  fact(facts, "检查方式", vocabulary.sources[h.source] || h.source);
  fact(facts, "发现", `${when(h.found_at)}${report ? `，${actor(report)}` : ""}`);
  if (origin) {
    // Raised by a check of the register: which source, task and measure.
    const source = origin.major_source;
    if (source) fact(facts, "重大危险源", `${source.name}（${source.code}，${source.grade_label}）`);
    fact(facts, "排查任务", `${origin.task.name}（${origin.unit.name}）`);
    fact(facts, "未落实的管控措施", origin.measure.name);
  }
  fact(facts, "类别", vocabulary.categories[h.category] || h.category);
  fact(facts, "专业", h.specialty ? vocabulary.specialties[h.specialty] || h.specialty : null);
  fact(facts, "隐患部位", h.location);
  fact(facts, "隐患描述", h.description);
  if (h.plan) {
    fact(facts, "整改措施", h.plan.measures);
    fact(facts, "责任人", h.plan.responsible_person);
  }

  const allowed = new Set(h.allowed_actions);
  const open = ["reported", "rectifying", "pending_acceptance"].includes(h.state);
  $("#photo-form").hidden = !open;
  $("#photo-label").textContent = h.state === "reported" ? "拍照或选择整改前照片" : "拍照或选择整改后照片";
  $("#plan-form").hidden = !allowed.has("plan");
  $("#submit-form").hidden = !allowed.has("submit");
  $("#accept-form").hidden = !allowed.has("accept");
  $("#reject-form").hidden = !allowed.has("reject");
  $("#void-form").hidden = !allowed.has("void");
  $("#extension-form").hidden = !allowed.has("request_extension");
  const plan = $("#plan-form");
  if (!plan.hidden && h.plan) {
    plan.measures.value = h.plan.measures || "";
    plan.responsible_person.value = h.plan.responsible_person || "";
    plan.funds.value = h.plan.funds ?? "";
    plan.contingency_plan.value = h.plan.contingency_plan || "";
  }
  if (!plan.hidden) plan.deadline.value = h.deadline;
  // A general hazard's plan needs its measures; a major one all five of 五到位.
  for (const [name, label] of PLAN_PARTS) {
    markRequired(plan[name], label, name === "measures" || h.level === "major");
  }
  for (const form of document.querySelectorAll("#view-hazard form")) clearErrors(form);
  showHistory(events);
  await loadPhotos(id);
}

/// A small form of one text field and a button, for the desk's cards.
/// A one-field form of the desk. `required` names the field when it must
/// be filled ("驳回理由"); `confirm(value)` gives the question to ask before
/// an irreversible step: [title, what happens, button].
function quickForm(label, name, button, primary, onSubmit, { required = false, confirm, after = showDesk } = {}) {
  const form = element("form", undefined, { class: "quick", novalidate: "" });
  const id = `f-${crypto.randomUUID()}`;
  const field = element("div", undefined, { class: "field" });
  const input = element("textarea", undefined, { id, name, rows: "2", "aria-describedby": `${id}-error` });
  if (required) input.dataset.required = label;
  field.append(
    element("label", required ? `${label}（必填）` : label, { for: id }),
    input,
    element("p", undefined, { class: "error", id: `${id}-error`, "data-error": name }),
  );
  form.append(field, element("p", undefined, { class: "error", "data-error": "_" }), element("button", button, { type: "submit", class: primary ? "primary" : "" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    const value = text(form, name);
    if (confirm && !(await confirmStep(...confirm(value)))) return;
    try {
      await onSubmit(value);
      await after();
    } catch (problem) {
      if (problem instanceof Problem && problem.status !== 401) showErrors(form, problem);
    }
  });
  return form;
}

/// Asks before an irreversible step, in the page's own dialog: resolves
/// true when confirmed. Cancel has the focus, so Enter does not confirm.
function confirmStep(title, body, label) {
  const dialog = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-body").textContent = body;
  $("#confirm-ok").textContent = label;
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/// The questions asked before each irreversible step, naming the hazard.
const ASK = {
  accept: (h) => [`验收 ${h.number}？`, `验收通过后隐患“${h.title}”即销号，不能撤回。`, "确认验收销号"],
  reject: (h) => [`驳回 ${h.number}？`, `隐患“${h.title}”将退回企业重新整改。`, "确认驳回"],
  void: (h) => [`作废 ${h.number}？`, `隐患“${h.title}”作废后不再计入统计，不能撤回。`, "确认作废"],
  refuse: (h, pending) => [
    `不同意 ${h.number} 的延期？`,
    `期限仍为 ${pending.previous_deadline}，企业须按原期限完成整改。`,
    "确认不同意",
  ],
};

function heading(h) {
  const title = element("h3");
  title.append(element("a", `${h.number} ${h.title}`, { href: `#/hazard/${h.id}` }));
  const meta = element("p", undefined, { class: "meta" });
  meta.append(
    element("span", enterpriseNames[h.enterprise_id] || ""),
    element("span", LEVELS[h.level] || h.level, { class: `level ${h.level}` }),
    element("span", `期限 ${h.deadline}`),
  );
  return [title, meta];
}

async function queueItem(h) {
  const item = element("li", undefined, { class: "card" });
  const items = await attachments(h.id);
  const photos = element("div", undefined, { class: "side-by-side" });
  for (const [phase, label] of [["before", "整改前"], ["after", "整改后"]]) {
    const column = element("figure");
    const list = element("ul", undefined, { class: "photos" });
    list.append(...(await photoItems(h.id, phase, items)));
    column.append(element("figcaption", label), list);
    photos.append(column);
  }
  const measures = h.plan && h.plan.measures ? element("p", `整改措施：${h.plan.measures}`) : "";
  // What the enterprise said when it submitted, beside what it did.
  const { items: events } = await api(`/hazards/${h.id}/events?limit=500`);
  const submitted = [...events].reverse().find((e) => e.action === "submit");
  const note = submitted?.note ? element("p", `整改说明：${submitted.note}（${actor(submitted)}，${when(submitted.occurred_at)}）`, { class: "note" }) : "";
  const actions = element("div", undefined, { class: "decisions" });
  if (h.allowed_actions.includes("accept")) {
    actions.append(
      quickForm(
        "验收意见",
        "notes",
        "验收通过",
        true,
        (notes) => api(`/hazards/${h.id}/accept`, { method: "POST", json: { notes } }).then(() => notice(`${h.number} 已验收销号。`)),
        { confirm: () => ASK.accept(h) },
      ),
    );
  }
  if (h.allowed_actions.includes("reject")) {
    actions.append(
      quickForm(
        "驳回理由",
        "reason",
        "驳回",
        false,
        (reason) => api(`/hazards/${h.id}/reject`, { method: "POST", json: { reason } }).then(() => notice(`${h.number} 已驳回，退回整改。`)),
        { required: true, confirm: () => ASK.reject(h) },
      ),
    );
  }
  item.append(...heading(h), photos, measures, note, actions);
  return item;
}

async function extensionItem(h) {
  const { items } = await api(`/hazards/${h.id}/extensions?limit=50`);
  const pending = items.find((e) => e.state === "pending");
  const item = element("li", undefined, { class: "card" });
  item.append(...heading(h));
  if (!pending) return item;
  item.append(
    element("p", `申请将期限由 ${pending.previous_deadline} 延至 ${pending.requested_deadline}`),
    element("p", `理由：${pending.reason}`),
  );
  const actions = element("div", undefined, { class: "decisions" });
  const decide = (decision, done) => (note) =>
    api(`/hazards/${h.id}/extensions/${pending.id}/${decision}`, { method: "POST", json: { note } }).then(() => notice(done));
  actions.append(
    quickForm("审批意见", "note", "同意延期", true, decide("approve", `${h.number} 已同意延期。`)),
    quickForm("不同意的理由", "note", "不同意", false, decide("refuse", `${h.number} 未同意延期。`), {
      required: true,
      confirm: () => ASK.refuse(h, pending),
    }),
  );
  item.append(actions);
  return item;
}

async function showDesk() {
  for (const url of photoUrls.splice(0)) URL.revokeObjectURL(url);
  const [queue, asking] = await Promise.all([
    api("/hazards?state=pending_acceptance&limit=100"),
    me.role === "supervisor" ? api("/hazards?pending_extension=true&limit=100") : { items: [] },
  ]);
  const oldestFirst = (a, b) => (a.submitted_at || "").localeCompare(b.submitted_at || "");
  const waiting = queue.items.sort(oldestFirst);
  const cards = await Promise.all(waiting.map(queueItem));
  cards.forEach((card, i) => {
    card.dataset.id = waiting[i].id;
  });
  $("#queue").replaceChildren(...(cards.length ? cards : [element("li", "没有待验收的隐患。", { class: "empty" })]));
  // On a wide screen the queue is an index beside one item at a time.
  $("#queue-index").replaceChildren(
    ...(waiting.length
      ? waiting.map((h) => {
          const item = element("li");
          const button = element("button", undefined, { type: "button", "data-id": h.id, "aria-controls": "queue" });
          button.append(
            element("strong", `${h.number} ${h.title}`),
            element("span", [enterpriseNames[h.enterprise_id], h.submitted_at && `提交于 ${when(h.submitted_at)}`].filter(Boolean).join("，"), { class: "meta" }),
          );
          item.append(button);
          return item;
        })
      : [element("li", "没有待验收的隐患。", { class: "empty" })]),
  );
  selectDesk(waiting.some((h) => h.id === deskCurrent) ? deskCurrent : waiting[0]?.id);
  $("#extensions-card").hidden = me.role !== "supervisor";
  $("#extensions").replaceChildren(
    ...(asking.items.length
      ? await Promise.all(asking.items.map(extensionItem))
      : [element("li", "没有待审批的延期申请。", { class: "empty" })]),
  );
  $("#due-card").hidden = me.role !== "supervisor";
  if (me.role === "supervisor") {
    const due = await api("/enterprises/due?within_days=30");
    const list = (Array.isArray(due) ? due : due.items).map((d) => ({
      ...d,
      worst: Math.max(0, ...d.due.map((i) => i.days_overdue || 0)),
    }));
    // Most overdue first; the first ten, the rest one tap away.
    list.sort((a, b) => b.worst - a.worst || a.name.localeCompare(b.name, "zh-CN"));
    const dueItem = (d) => {
            const item = element("li", undefined, { "data-grade": d.grade || "none" });
            item.append(
              element("strong", d.name),
              element("span", d.grade ? GRADES[d.grade] : "未评估", { class: "grade" }),
              element(
                "span",
                d.due
                  .map((i) => `${DUE[i.reason] || i.reason} ${i.due_on}${i.days_overdue > 0 ? `（已逾期 ${i.days_overdue} 天）` : ""}`)
                  .join("；"),
              ),
            );
            return item;
          };
    const shown = list.slice(0, 10).map(dueItem);
    if (list.length > 10) {
      const more = element("details", undefined, { class: "more" });
      const rest = element("ul", undefined, { class: "due" });
      rest.append(...list.slice(10).map(dueItem));
      more.append(element("summary", `查看全部（共 ${list.length} 家）`), rest);
      const holder = element("li", undefined, { class: "more-holder" });
      holder.append(more);
      shown.push(holder);
    }
    $("#due").replaceChildren(...(list.length ? shown : [element("li", "30 天内没有到期的评估或检查。", { class: "empty" })]));
  }
}

/// The desk's item shown beside the index (a wide screen shows one).
let deskCurrent = null;
function selectDesk(id) {
  deskCurrent = id ?? null;
  for (const card of $("#queue").children) card.classList.toggle("current", card.dataset.id === deskCurrent);
  for (const button of $("#queue-index").querySelectorAll("button")) {
    button.setAttribute("aria-current", String(button.dataset.id === deskCurrent));
  }
}

function options(select, entries, blank) {
  const nodes = entries.map(([value, label]) => element("option", label, { value }));
  if (blank !== undefined) nodes.unshift(element("option", blank, { value: "" }));
  select.replaceChildren(...nodes);
}

async function showNew() {
  const form = $("#new-form");
  if (form.dataset.ready) return;
  const own = me.role === "enterprise";
  options(
    form.enterprise_id,
    own ? [[me.enterprise_id, "本企业"]] : Object.entries(enterpriseNames).sort((a, b) => a[1].localeCompare(b[1], "zh")),
    own ? undefined : "请选择企业",
  );
  // A mutual check names its checking enterprise: reported through the API.
  const sources = Object.entries(vocabulary.sources).filter(([code]) => (own ? code === "self_check" : code !== "mutual_check"));
  options(form.source, sources);
  if (!own) form.source.value = "resident_expert";
  options(form.level, Object.entries(LEVELS));
  options(form.category, Object.entries(vocabulary.categories), "请选择类别");
  options(form.specialty, Object.entries(vocabulary.specialties), "不选");
  const criteria = await reference("/reference/major-hazard-criteria");
  options(form.major_basis_code, criteria.items.map((c) => [String(c.code), `第${c.code}条 ${c.text}`]), "请选择判定依据");
  const soon = new Date(Date.now() + 14 * 86400000);
  form.deadline.value = soon.toISOString().slice(0, 10);
  form.dataset.ready = "1";
}

// The outbox: each capture is kept in IndexedDB, photos and all, from the
// moment 登记 is pressed until the hazard and every photo have arrived, so
// neither a lost network nor a reload loses it. Each request carries an
// Idempotency-Key derived from the capture's own key: sent twice, it
// arrives once.
const OUTBOX = "outbox";

function outboxDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("ht-workspace", 1);
    open.onupgradeneeded = () => open.result.createObjectStore(OUTBOX, { keyPath: "key" });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function outbox(mode, act) {
  const db = await outboxDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(OUTBOX, mode);
    const request = act(tx.objectStore(OUTBOX));
    tx.oncomplete = () => resolve(request && request.result);
    tx.onerror = () => reject(tx.error);
  });
}

const keep = (capture) => outbox("readwrite", (store) => store.put(capture));
const drop = (key) => outbox("readwrite", (store) => store.delete(key));
/// The captures this account made that are still waiting (another
/// account's, on a shared phone, are sent only by that account).
const waiting = () =>
  outbox("readonly", (store) => store.getAll()).then((all) => all.filter((c) => me && c.user === me.id));

/// Sends what is left of one capture: the hazard unless it went already,
/// then each photo not yet sent, noting each step in the outbox.
async function send(capture) {
  if (capture.kind === "check") return sendCheck(capture);
  if (!capture.hazard) {
    // Sent well after it was captured: dated when it was found, which the
    // park's people may do (an entered record); a contact's is dated now.
    const late = Date.now() - Date.parse(capture.captured_at) > 60000;
    const body = late && me.role !== "enterprise" ? { ...capture.body, found_at: capture.captured_at } : capture.body;
    capture.hazard = await api("/hazards", { method: "POST", json: body, key: `${capture.key}-hazard` });
    await keep(capture);
  }
  for (const photo of capture.photos) {
    if (photo.sent) continue;
    const upload = new FormData();
    upload.append("phase", "before");
    upload.append("file", photo.blob, photo.name);
    await api(`/hazards/${capture.hazard.id}/attachments`, { method: "POST", form: upload, key: `${capture.key}-photo-${photo.index}` });
    photo.sent = true;
    await keep(capture);
  }
  await drop(capture.key);
  return capture.hazard;
}

/// Sends a kept check record (今日排查) once: its Idempotency-Key is the
/// record's own. Sent well after the check, it is dated when checked for
/// the park's people; a contact's is dated now, as for captures. Its
/// photos follow, each noted in the outbox once sent: on the record (the
/// evidence of the check) and, when it became a hazard, as the hazard's
/// before photos, where its rectification is followed.
async function sendCheck(record) {
  if (!record.done) {
    const late = Date.now() - Date.parse(record.captured_at) > 60000;
    const body = late && me.role !== "enterprise" ? { ...record.body, checked_at: record.captured_at } : record.body;
    record.done = await api(`/check-tasks/${record.task_id}/records`, { method: "POST", json: body, key: `${record.key}-record` });
    await keep(record);
  }
  for (const photo of record.photos || []) {
    if (photo.sent) continue;
    const onRecord = new FormData();
    onRecord.append("file", photo.blob, photo.name);
    await api(`/check-records/${record.done.id}/photos`, { method: "POST", form: onRecord, key: `${record.key}-photo-${photo.index}` });
    if (record.done.hazard_id) {
      const onHazard = new FormData();
      onHazard.append("phase", "before");
      onHazard.append("file", photo.blob, photo.name);
      const path = `/hazards/${record.done.hazard_id}/attachments`;
      await api(path, { method: "POST", form: onHazard, key: `${record.key}-hazard-photo-${photo.index}` });
    }
    photo.sent = true;
    await keep(record);
  }
  await drop(record.key);
  return { number: `${record.label}（第 ${record.body.occurrence + 1} 次排查）`, record: record.done };
}

let flushing = null;

/// Sends every waiting capture (one pass at a time); those the network
/// still refuses stay for the next.
function flush() {
  flushing ??= (async () => {
    try {
      for (const capture of await waiting()) {
        try {
          const hazard = await send(capture);
          notice(`已发送 ${hazard.number}。`);
        } catch (problem) {
          if (problem instanceof Problem && problem.status !== 401) {
            // Refused for good (the data, not the network): not retried.
            await drop(capture.key);
            notice(`一条离线登记未被接受：${problem.message}`);
          }
        }
      }
    } finally {
      flushing = null;
      await showWaiting();
      if (location.hash === "#/checks") await showChecks();
    }
  })();
  return flushing;
}

/// What waits in the outbox, as list items.
function waitingItems(captures) {
  return captures.map((c) => {
    const item = element("li");
    if (c.kind === "check") {
      const photos = (c.photos || []).filter((p) => !p.sent).length;
      const state = c.done ? `已记录，照片待发送 ${photos} 张` : `排查记录待发送${photos ? `，照片 ${photos} 张` : ""}`;
      item.append(element("strong", c.label), element("span", state, { class: "meta" }));
      return item;
    }
    const left = c.photos.filter((p) => !p.sent).length;
    const state = c.hazard ? `已登记 ${c.hazard.number}，照片待发送 ${left} 张` : `待发送，照片 ${c.photos.length} 张`;
    item.append(element("strong", c.body.title || "（无名称）"), element("span", state, { class: "meta" }));
    return item;
  });
}

/// The outbox on the capture page, on its own page and as a count in
/// the navigation.
async function showWaiting() {
  const captures = await waiting();
  $("#waiting-card").hidden = captures.length === 0;
  $("#waiting").replaceChildren(...waitingItems(captures));
  $("#waiting-all").replaceChildren(
    ...(captures.length ? waitingItems(captures) : [element("li", "没有待发送的记录。", { class: "empty" })]),
  );
  $("#nav-waiting").hidden = captures.length === 0;
  $("#nav-waiting-count").textContent = String(captures.length);
}

/// 登记: the capture goes into the outbox first, then out. A refusal of
/// its data is shown beside the fields; a network failure leaves it
/// waiting, shown on the page, sent when the network returns.
async function capture(event) {
  event.preventDefault();
  const form = event.target;
  // Every missing field named at once, before anything is kept or sent.
  if (!checkRequired(form)) return;
  const major = form.level.value === "major";
  const body = {
    enterprise_id: form.enterprise_id.value || undefined,
    source: form.source.value,
    level: form.level.value,
    major_basis_code: major && form.major_basis_code.value ? Number(form.major_basis_code.value) : undefined,
    category: form.category.value || undefined,
    specialty: form.specialty.value || undefined,
    title: text(form, "title"),
    description: text(form, "description"),
    location: text(form, "location"),
    deadline: text(form, "deadline"),
  };
  const photos = photosOf(form.photos.files);
  const record = {
    key: crypto.randomUUID(),
    user: me.id,
    body,
    photos,
    hazard: null,
    captured_at: new Date().toISOString(),
  };
  const button = form.querySelector("button");
  button.disabled = true;
  clearErrors(form);
  try {
    await keep(record);
    const hazard = await send(record);
    form.reset();
    showThumbs();
    delete form.dataset.ready;
    notice(`已登记 ${hazard.number}${photos.length ? `，照片 ${photos.length} 张` : ""}。`, `#/hazard/${hazard.id}`);
    location.hash = `#/hazard/${hazard.id}`;
  } catch (problem) {
    if (problem instanceof Problem && problem.status !== 401) {
      if (!record.hazard) await drop(record.key);
      showErrors(form, problem);
    } else if (!(problem instanceof Problem)) {
      form.reset();
      showThumbs();
      delete form.dataset.ready;
      await showNew();
      notice("网络不通：已保存在本机，联网后自动发送。");
    }
  } finally {
    button.disabled = false;
    await showWaiting();
  }
}

/// 今日排查: the occurrences the caller is on duty for today, and the
/// ones missed lately; 正常 records with one tap, 异常 opens the form for
/// the hazard it becomes. Offline, the list shown is the last one read and
/// a record waits in the outbox like a capture, sent exactly once.
let duties = [];
let abnormalFor = null;

function clock(wallTime) {
  return wallTime.slice(5, 16).replace("T", " ");
}

async function showChecks() {
  const [list, kept] = await Promise.all([reference("/check-duties"), waiting()]);
  duties = list.items;
  const pending = new Set(kept.filter((c) => c.kind === "check").map((c) => `${c.task_id}/${c.body.occurrence}`));
  const items = $("#duties");
  if (duties.length === 0) {
    items.replaceChildren(element("li", "今天没有排查任务。", { class: "empty" }));
    return;
  }
  items.replaceChildren(
    ...duties.map((o, index) => {
      const row = element("li", undefined, { "data-status": o.status, "data-kind": o.task_kind });
      const waitingHere = pending.has(`${o.task_id}/${o.occurrence}`);
      row.append(element("strong", o.task_name));
      const meta = element("p", undefined, { class: "meta" });
      const status = waitingHere ? "待发送" : CHECK_STATUS[o.status] || o.status;
      meta.append(
        element("span", status, { class: `badge status-${o.status}` }),
        element("span", `${clock(o.start)} 至 ${clock(o.end)}`),
      );
      if (o.record) meta.append(element("span", o.record.outcome === "abnormal" ? "异常，已生成隐患" : "正常"));
      row.append(meta);
      if (!o.record && !waitingHere && (o.status === "due" || o.status === "missed")) {
        const actions = element("div", undefined, { class: "actions" });
        const normal = element("button", "正常", { type: "button", class: "primary", "data-index": String(index), "data-outcome": "normal" });
        const abnormal = element("button", "异常", { type: "button", "data-index": String(index), "data-outcome": "abnormal" });
        actions.append(normal, abnormal);
        row.append(actions);
      }
      return row;
    }),
  );
}

/// A labelled field with its error slot, for the forms built here.
function field(form, { name, label, type = "text", options: choices, required = true, max }) {
  const id = `f-${crypto.randomUUID()}`;
  const wrap = element("div", undefined, { class: "field" });
  let input;
  if (choices) {
    input = element("select", undefined, { id, name });
    options(input, choices);
  } else {
    input = element("input", undefined, { id, name, type });
    if (max) input.setAttribute("maxlength", String(max));
  }
  input.setAttribute("aria-describedby", `${id}-error`);
  if (required) input.dataset.required = label;
  wrap.append(element("label", required ? `${label}（必填）` : label, { for: id }));
  // A file is chosen with the page's own button (see app.css), its name
  // shown beside it.
  if (type === "file") {
    const picked = element("p", "未选择文件", { class: "picked", "aria-live": "polite" });
    input.addEventListener("change", () => {
      picked.textContent = input.files.length ? input.files[0].name : "未选择文件";
    });
    wrap.append(element("label", "选择文件", { for: id, class: "pick" }), input, picked);
  } else {
    wrap.append(input);
  }
  wrap.append(element("p", undefined, { class: "error", id: `${id}-error`, "data-error": name }));
  form.append(wrap);
  return input;
}

/// Names every required field left empty ("请填写姓名"), focusing the
/// first; true when none is.
function checkRequired(form) {
  clearErrors(form);
  let first = null;
  for (const input of form.querySelectorAll("[data-required]")) {
    const empty = input.type === "file" ? input.files.length === 0 : input.value.trim() === "";
    if (!empty || input.closest("[hidden]")) continue;
    const verb = input.tagName === "SELECT" || input.type === "file" || input.type === "date" ? "请选择" : "请填写";
    document.getElementById(input.getAttribute("aria-describedby")).textContent = `${verb}${input.dataset.required}`;
    input.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  first?.focus();
  return first === null;
}

/// A form of a source's card: sent with `send(form)`, then the page is
/// shown again with `done` as its notice.
function sourceAction(title, fields, button, send, done) {
  const form = element("form", undefined, { class: "quick", novalidate: "" });
  form.append(element("h3", title));
  for (const spec of fields) field(form, spec);
  form.append(element("p", undefined, { class: "error", "data-error": "_", role: "alert" }), element("button", button, { type: "submit" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    try {
      await send(form);
      await showSources();
      notice(done);
    } catch (problem) {
      if (problem instanceof Problem && problem.status !== 401) showErrors(form, problem);
    }
  });
  return form;
}

/// What may be done to a source from its card: appoint a person, record a
/// drill, keep an assessment report, print the placard.
function sourceActions(s) {
  const box = element("div", undefined, { class: "source-actions" });
  const print = element("button", "打印公示牌", { type: "button", "data-placard": s.id });
  const more = element("details");
  more.append(element("summary", "任命责任人 · 登记演练 · 上传评估报告"));
  const kinds = Object.entries(PERSON_KINDS);
  const drills = s.drills.map((d) => [d.kind, d.label]);
  more.append(
    sourceAction(
      "任命包保责任人",
      [
        { name: "kind", label: "责任类别", options: kinds },
        { name: "name", label: "姓名", max: 200 },
        { name: "post", label: "职务", max: 200 },
        { name: "phone", label: "联系电话", type: "tel", max: 40 },
      ],
      "任命",
      (form) =>
        api(`/major-sources/${s.id}/persons`, {
          method: "POST",
          json: { kind: form.kind.value, name: text(form, "name"), post: text(form, "post"), phone: text(form, "phone") },
        }),
      "包保责任人已任命，原任者的履职排查任务已停止。",
    ),
    sourceAction(
      "登记应急演练",
      [
        { name: "kind", label: "演练类别", options: drills },
        { name: "held_on", label: "演练日期", type: "date" },
        { name: "note", label: "说明", required: false, max: 10000 },
      ],
      "登记演练",
      (form) =>
        api(`/major-sources/${s.id}/drills`, {
          method: "POST",
          json: { kind: form.kind.value, held_on: text(form, "held_on"), note: text(form, "note") },
        }),
      "演练已登记。",
    ),
    sourceAction(
      "上传安全评估报告",
      [
        { name: "assessed_on", label: "评估日期", type: "date" },
        { name: "file", label: "评估报告", type: "file" },
        { name: "caption", label: "评估机构、报告编号", required: false, max: 500 },
      ],
      "上传",
      (form) => {
        const body = new FormData();
        body.append("assessed_on", form.assessed_on.value);
        if (form.caption.value.trim()) body.append("caption", form.caption.value.trim());
        body.append("file", form.file.files[0], form.file.files[0].name);
        return api(`/major-sources/${s.id}/assessments`, { method: "POST", form: body });
      },
      "评估报告已上传，下次评估日期已更新。",
    ),
  );
  box.append(print, more);
  return box;
}

/// The placard of a source, opened in this tab from the answer (it needs
/// the token, so it is fetched, not linked): print it from there.
async function openPlacard(id) {
  const reply = await api(`/major-sources/${id}/placard`, { raw: true });
  const page = await reply.text();
  location.assign(URL.createObjectURL(new Blob([page], { type: "text/html" })));
}

/// The register form: the enterprise to choose unless the caller is one,
/// and the kind of unit (the glossary's names, 储存单元 first).
function prepareSourceForm() {
  const form = $("#source-form");
  const own = me.role === "enterprise";
  $("#source-enterprise-field").hidden = own;
  if (form.unit_kind.options.length === 0) {
    options(form.unit_kind, ["storage", "production"].map((code) => [code, TERMS.unit_kinds[code]]));
  }
  if (!own && form.enterprise_id.options.length === 0) {
    options(form.enterprise_id, Object.entries(enterpriseNames).sort((a, b) => a[1].localeCompare(b[1], "zh-CN")), "请选择企业");
  }
  const required = { enterprise_id: "企业", code: "重大危险源编号", name: "名称", chem_name: "危险化学品品名", quantity_t: "实际存在量", critical_t: "临界量", beta: "校正系数" };
  for (const [name, label] of Object.entries(required)) form.elements[name].dataset.required = label;
}

async function registerSource(event) {
  event.preventDefault();
  const form = event.target;
  if (!checkRequired(form)) return;
  const number = (name) => Number(form.elements[name].value);
  try {
    const source = await api("/major-sources", {
      method: "POST",
      json: {
        enterprise_id: me.role === "enterprise" ? me.enterprise_id : form.enterprise_id.value,
        code: text(form, "code"),
        name: text(form, "name"),
        unit_kind: form.unit_kind.value,
        alpha: Number(form.alpha.value),
        chemicals: [{ name: text(form, "chem_name"), quantity_t: number("quantity_t"), critical_t: number("critical_t"), beta: number("beta") }],
        assessed_on: text(form, "assessed_on"),
      },
    });
    form.reset();
    $("#source-new").open = false;
    await showSources();
    notice(`已登记：${source.name}，${source.grade_label}重大危险源（R=${source.r}）。请任命三类包保责任人。`);
  } catch (problem) {
    if (problem instanceof Problem && problem.status !== 401) showErrors(form, problem);
  }
}

/// The major hazard sources the caller may see: grade, the three persons
/// (or who is missing), and when the next assessment and drills fall due.
/// 风险分级管控清单: an enterprise's register as a tree, levels in their
/// colours; exported to Excel, and imported from it after a dry run.
let registerFor = null;

async function showRegister() {
  const own = me.role === "enterprise";
  const pick = $("#register-enterprise");
  $("#register-enterprise-field").hidden = own;
  if (!own && pick.options.length === 0) {
    options(pick, Object.entries(enterpriseNames).sort((a, b) => a[1].localeCompare(b[1], "zh-CN")));
  }
  registerFor = own ? me.enterprise_id : pick.value;
  if (!registerFor) return;
  const tree = await api(`/enterprises/${registerFor}/risk-register`);
  const levels = Object.entries(TERMS.risk_levels);
  $("#register-counts").textContent = `风险单元：${levels.map(([code, name]) => `${name} ${tree.units_by_level[code]}`).join("，")}；管控措施 ${tree.measures} 项，排查任务 ${tree.tasks} 项。`;
  const level = (view) =>
    view ? element("span", `${view.label}`, { class: `badge risk ${view.colour}` }) : element("span", "未评价", { class: "badge" });
  $("#register-tree").replaceChildren(
    ...(tree.objects.length
      ? tree.objects.map((o) => {
          const card = element("li", undefined, { class: "card" });
          const title = element("h2", o.name);
          card.append(title, element("p", [o.kind_label, o.major_source_code && `编号 ${o.major_source_code}`].filter(Boolean).join(" · "), { class: "meta" }), ...nodeTools("object", o));
          const units = element("ul", undefined, { class: "units" });
          for (const u of o.units) {
            const unit = element("li");
            const head = element("p", undefined, { class: "head" });
            head.append(element("strong", u.name), level(u.level));
            unit.append(head, element("p", [u.department, u.responsible_person && `责任人 ${u.responsible_person}`].filter(Boolean).join(" · "), { class: "meta" }), ...nodeTools("unit", u));
            const events = element("ul", undefined, { class: "events" });
            for (const e of u.events) {
              const event = element("li");
              const line = element("p", undefined, { class: "head" });
              line.append(element("span", e.name), level(e.level));
              // The method's score (LS R = L × S, LEC D = L × E × C).
              const method = { ls: "LS", lec: "LEC" }[e.assessment.method];
              if (method) line.append(element("span", `${method} ${e.score}`, { class: "meta" }));
              event.append(line);
              if (e.consequence) event.append(element("p", `可能后果：${e.consequence}`, { class: "meta" }));
              event.append(...nodeTools("event", e));
              const measures = element("ul", undefined, { class: "measures" });
              for (const m of e.measures) {
                const tasks = m.tasks.filter((t) => t.active).length;
                const measure = element("li");
                measure.append(
                  element(
                    "p",
                    `${m.description}（${m.classification_label}，${TERMS.control_modes[m.control_mode] || m.control_mode}${m.check_content ? `：${m.check_content}` : ""}${tasks ? `，排查任务 ${tasks} 项` : ""}）`,
                  ),
                  ...nodeTools("measure", m),
                );
                measures.append(measure);
              }
              event.append(measures);
              events.append(event);
            }
            unit.append(events);
            units.append(unit);
          }
          card.append(units);
          return card;
        })
      : [element("li", "清单是空的：可从 Excel 导入。", { class: "empty" })]),
  );
}

/// The register's nodes a person edits or takes out on its page: where
/// each lives in the API, its name here, the fields of its form, and what
/// leaves with it.
const NODES = {
  object: { path: "risk-objects", what: "风险分析对象", title: (n) => n.name, fields: [["name", "名称"]], below: "其下的风险分析单元、风险事件、管控措施和排查任务" },
  unit: { path: "risk-units", what: "风险分析单元", title: (n) => n.name, fields: [["name", "名称"], ["department", "所属部门"], ["responsible_person", "责任人"]], below: "其下的风险事件、管控措施和排查任务" },
  event: { path: "risk-events", what: "安全风险事件", title: (n) => n.name, fields: [["name", "名称"], ["consequence", "可能后果", "textarea"]], below: "其下的管控措施和排查任务" },
  measure: { path: "control-measures", what: "管控措施", title: (n) => n.description, fields: [["description", "措施内容", "textarea"], ["check_content", "排查内容", "textarea"]], below: "它的排查任务" },
};
const REGISTER_EDITORS = ["enterprise", "expert", "admin"];

/// 修改或移出 under a node of the register: a form of its fields (only
/// what changed is sent) and 移出清单 with a reason, asked first.
function nodeTools(kind, node) {
  if (!REGISTER_EDITORS.includes(me.role)) return [];
  const spec = NODES[kind];
  const name = spec.title(node);
  const box = element("details", undefined, { class: "node-tools" });
  box.append(element("summary", "修改或移出"));
  const form = element("form", undefined, { class: "quick", novalidate: "" });
  for (const [field, label, tag = "input"] of spec.fields) {
    const id = `f-${crypto.randomUUID()}`;
    const input = element(tag, undefined, { id, name: field, "aria-describedby": `${id}-error`, ...(tag === "textarea" ? { rows: "2" } : {}) });
    input.value = node[field] ?? "";
    const wrap = element("div", undefined, { class: "field" });
    wrap.append(element("label", label, { for: id }), input, element("p", undefined, { class: "error", id: `${id}-error`, "data-error": field }));
    form.append(wrap);
  }
  form.append(element("p", undefined, { class: "error", "data-error": "_" }), element("button", "保存修改", { type: "submit", class: "primary" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const changes = {};
    for (const [field] of spec.fields) {
      const value = form.elements[field].value.trim();
      if (value !== (node[field] ?? "")) changes[field] = value;
    }
    if (Object.keys(changes).length === 0) {
      notice("没有改动。");
      return;
    }
    try {
      const saved = await api(`/${spec.path}/${node.id}`, { method: "PATCH", json: changes });
      await showRegister();
      notice(`${spec.what}“${spec.title(saved)}”已修改。`);
    } catch (problem) {
      if (problem instanceof Problem && problem.status !== 401) showErrors(form, problem);
    }
  });
  const retire = quickForm(
    "移出理由",
    "reason",
    "移出清单",
    false,
    async (reason) => {
      const done = await api(`/${spec.path}/${node.id}/retire`, { method: "POST", json: { reason } });
      notice(`${spec.what}“${name}”已移出清单${done.tasks_retired ? `，${done.tasks_retired} 项排查任务随之停止` : ""}。`);
    },
    {
      required: true,
      confirm: () => [`移出${spec.what}“${name}”？`, `${spec.below}一并移出，不再安排排查，不能撤回；移出前的记录和历史仍保留。`, "确认移出"],
      after: showRegister,
    },
  );
  box.append(form, retire);
  return [box];
}

/// Downloads the register as the sheet enterprises keep.
async function exportRegister() {
  const reply = await api(`/enterprises/${registerFor}/risk-register?format=xlsx`, { raw: true });
  const url = URL.createObjectURL(await reply.blob());
  const link = element("a", undefined, { href: url, download: "风险分级管控清单.xlsx" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/// The import's report, row by row: what would be added, and each error.
function showImportReport(report) {
  const added = report.added;
  const lines = [
    element(
      "p",
      `共 ${report.rows} 行：${report.dry_run ? "将" : "已"}新增风险分析对象 ${added.objects} 个、单元 ${added.units} 个、事件 ${added.events} 个、管控措施 ${added.measures} 项；${report.unchanged} 行已在清单中；${report.errors} 行有错。`,
    ),
  ];
  const wrong = report.results.filter((r) => r.errors.length);
  if (wrong.length) {
    const list = element("ul", undefined, { class: "errors" });
    for (const r of wrong) {
      for (const e of r.errors) list.append(element("li", `第 ${r.row} 行，${e.column}：${e.reason}`));
    }
    lines.push(list);
  }
  $("#register-report").replaceChildren(...lines);
}

async function importRegister(dryRun) {
  const form = $("#register-import");
  if (!checkRequired(form)) return;
  const upload = new FormData();
  upload.append("file", form.file.files[0]);
  const commit = $("#register-commit");
  try {
    const report = await api(`/enterprises/${registerFor}/risk-register/import${dryRun ? "?dry_run=true" : ""}`, { method: "POST", form: upload });
    showImportReport(report);
    commit.disabled = !dryRun || report.errors > 0;
    if (!dryRun) {
      notice(`已导入：新增管控措施 ${report.added.measures} 项。`);
      await showRegister();
    }
  } catch (problem) {
    commit.disabled = true;
    if (problem instanceof Problem) showErrors(form, problem);
    else notice("网络不通：未能导入，请联网后重试。");
  }
}

async function showSources() {
  prepareSourceForm();
  const { items } = await reference("/major-sources");
  const list = $("#source-list");
  if (items.length === 0) {
    list.replaceChildren(element("li", "没有登记的重大危险源。", { class: "empty" }));
    return;
  }
  list.replaceChildren(
    ...items.map((s) => {
      const card = element("li", undefined, { class: "card", "data-grade": String(s.grade), "data-source": s.id });
      const title = element("h2");
      title.append(element("span", s.name), element("span", ` ${s.grade_label}`, { class: "badge grade" }));
      card.append(title);
      const enterprise = enterpriseNames[s.enterprise_id];
      card.append(element("p", `${enterprise ? `${enterprise} · ` : ""}编号 ${s.code} · ${s.unit_kind_label} · R=${s.r}`, { class: "meta" }));
      const persons = element("dl", undefined, { class: "persons" });
      for (const [kind, label] of Object.entries(PERSON_KINDS)) {
        const person = s.persons.find((p) => p.kind === kind);
        persons.append(element("dt", label));
        persons.append(
          person
            ? element("dd", `${person.name}（${person.post}）${person.phone}`)
            : element("dd", "未明确", { class: "missing" }),
        );
      }
      card.append(persons);
      const dates = element("ul", undefined, { class: "dates" });
      // Whether a day has come is the park's to say (its time zone).
      const dated = [
        ...s.drills.map((d) => [d.label, d.next_due, d.due]),
        ...(s.next_assessment_due ? [["安全评估", s.next_assessment_due, s.assessment_due]] : []),
      ];
      for (const [label, day, due] of dated) {
        dates.append(element("li", `${label}：${day} 前`, due ? { class: "overdue" } : {}));
      }
      card.append(dates, sourceActions(s));
      return card;
    }),
  );
}

/// Keeps a record in the outbox, then sends it; offline it waits.
async function recordCheck(occurrence, body, files = []) {
  const record = {
    key: crypto.randomUUID(),
    user: me.id,
    kind: "check",
    task_id: occurrence.task_id,
    label: occurrence.task_name,
    body: { occurrence: occurrence.occurrence, ...body },
    photos: photosOf(files),
    captured_at: new Date().toISOString(),
  };
  await keep(record);
  try {
    await sendCheck(record);
    notice(`已记录：${occurrence.task_name}${body.outcome === "abnormal" ? "（异常，已生成隐患）" : "（正常）"}。`);
    return true;
  } catch (problem) {
    if (problem instanceof Problem && problem.status !== 401) {
      await drop(record.key);
      // The record stands; only a photo was refused.
      if (record.done) {
        notice(`已记录：${occurrence.task_name}；有照片未被接受：${problem.message}`);
        return true;
      }
      throw problem;
    }
    if (!(problem instanceof Problem)) notice("网络不通：排查记录已保存在本机，联网后自动发送。");
    return true;
  } finally {
    await showChecks();
  }
}

async function onDutyClick(event) {
  const button = event.target.closest("button[data-index]");
  if (!button) return;
  const occurrence = duties[Number(button.dataset.index)];
  if (button.dataset.outcome === "normal") {
    button.disabled = true;
    try {
      await recordCheck(occurrence, { outcome: "normal" });
    } catch (problem) {
      notice(`未能记录：${problem.message}`);
    }
    return;
  }
  abnormalFor = occurrence;
  const form = $("#abnormal-form");
  form.reset();
  showThumbs("abnormal");
  clearErrors(form);
  $("#abnormal-task").textContent = `${occurrence.task_name}，${clock(occurrence.start)} 至 ${clock(occurrence.end)}`;
  // A 包保责任人's duty check names the duties not carried out.
  const kind = DUTY_KINDS[occurrence.task_kind];
  const dutyBox = $("#abnormal-duties");
  dutyBox.hidden = !kind;
  if (kind) {
    const lists = await reference("/reference/baobao-duties");
    $("#abnormal-duty-items").replaceChildren(
      ...lists[kind].items.map((item, i) => {
        const id = `abnormal-duty-${i + 1}`;
        const row = element("div", undefined, { class: "check" });
        const box = element("input", undefined, { type: "checkbox", id, name: "failed_items", value: String(i + 1) });
        row.append(box, element("label", `${item.number}${item.text}`, { for: id }));
        return row;
      }),
    );
  }
  const categories = $("#abnormal-category");
  if (categories.options.length === 0) {
    categories.append(element("option", "请选择", { value: "" }));
    for (const [code, label] of Object.entries(vocabulary.categories)) categories.append(element("option", label, { value: code }));
  }
  form.hidden = false;
  form.scrollIntoView({ block: "start" });
  $("#abnormal-location").focus();
}

async function onAbnormal(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const missing = [
    ["location", "请填写隐患部位"],
    ["category", "请选择隐患类别"],
    ["deadline", "请填写整改期限"],
  ].filter(([name]) => !text(form, name));
  const duty = !$("#abnormal-duties").hidden;
  const failed = duty
    ? [...form.querySelectorAll('input[name="failed_items"]:checked')].map((box) => Number(box.value))
    : [];
  if (missing.length || (duty && failed.length === 0)) {
    if (duty && failed.length === 0) {
      $("#abnormal-duties-error").textContent = "请选择未落实的包保职责";
      $("#abnormal-duties").setAttribute("aria-invalid", "true");
    }
    for (const [name, message] of missing) {
      form.querySelector(`[data-error="hazard.${name}"]`).textContent = message;
      form.elements[name].setAttribute("aria-invalid", "true");
    }
    const first = form.querySelector("[aria-invalid]");
    (first.matches("fieldset") ? first.querySelector("input") : first).focus();
    return;
  }
  try {
    await recordCheck(abnormalFor, {
      outcome: "abnormal",
      note: text(form, "note"),
      hazard: { location: text(form, "location"), category: text(form, "category"), deadline: text(form, "deadline") },
      ...(duty ? { failed_items: failed } : {}),
    }, form.photos.files);
    form.hidden = true;
    form.reset();
    showThumbs("abnormal");
  } catch (problem) {
    showErrors(form, problem);
  }
}

function clearErrors(form) {
  for (const node of form.querySelectorAll("[data-error]")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/// Chosen files as the outbox keeps them, each to be marked once sent.
function photosOf(files) {
  return [...files].map((file, index) => ({
    index,
    name: file.name || `photo-${index + 1}.jpg`,
    blob: file,
    sent: false,
  }));
}

/// The photos chosen in a form, as thumbnails before anything is sent.
const thumbUrls = { new: [], abnormal: [] };
function showThumbs(form = "new") {
  for (const url of thumbUrls[form].splice(0)) URL.revokeObjectURL(url);
  const files = [...$(`#${form}-photos`).files];
  $(`#${form}-thumbs`).replaceChildren(
    ...files.map((file, i) => {
      const url = URL.createObjectURL(file);
      thumbUrls[form].push(url);
      const item = element("li");
      item.append(element("img", undefined, { src: url, alt: `现场照片 ${i + 1}：${file.name}` }));
      return item;
    }),
  );
}

/// The plan's five parts (五到位), as the form names them.
const PLAN_PARTS = [
  ["measures", "整改措施"],
  ["responsible_person", "责任人"],
  ["funds", "整改资金"],
  ["deadline", "整改期限"],
  ["contingency_plan", "应急预案"],
];

/// Marks `input` required (its label says so) or not.
function markRequired(input, name, needed) {
  const label = document.querySelector(`label[for="${input.id}"]`);
  label.dataset.text ??= label.textContent;
  label.textContent = needed ? `${label.dataset.text}（必填）` : label.dataset.text;
  if (needed) input.dataset.required = name;
  else delete input.dataset.required;
}

/// A field marked invalid loses its mark and message once it is changed.
function clearOnChange(event) {
  const input = event.target;
  if (!input.hasAttribute?.("aria-invalid")) return;
  input.removeAttribute("aria-invalid");
  const slot = document.getElementById(input.getAttribute("aria-describedby"));
  if (slot) slot.textContent = "";
}

/// Shows a refusal beside the fields it names; the rest under the form.
function showErrors(form, problem) {
  clearErrors(form);
  const unplaced = [];
  for (const [name, message] of Object.entries(problem.errors || {})) {
    const slot = form.querySelector(`[data-error="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = message;
      form.elements[name]?.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(message);
    }
  }
  // What no field shows is said under the form, so nothing goes unsaid.
  const placedNone = unplaced.length === Object.keys(problem.errors || {}).length;
  if (unplaced.length || placedNone) {
    form.querySelector('[data-error="_"]').textContent = placedNone ? problem.message : unplaced.join("；");
  }
  form.querySelector("[aria-invalid]")?.focus();
}

function text(form, name) {
  const value = form.elements[name].value.trim();
  return value === "" ? undefined : value;
}

async function act(form, path, body, done) {
  try {
    await api(path, { method: "POST", json: body });
    notice(done);
    await showHazard(current.id);
  } catch (problem) {
    if (problem instanceof Problem && problem.status !== 401) showErrors(form, problem);
  }
}

function wire() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", () => signOut());
  $("#plan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    if (!checkRequired(form)) return;
    const funds = text(form, "funds");
    act(
      form,
      `/hazards/${current.id}/plan`,
      {
        measures: text(form, "measures"),
        responsible_person: text(form, "responsible_person"),
        funds: funds === undefined ? undefined : Number(funds),
        deadline: text(form, "deadline"),
        contingency_plan: text(form, "contingency_plan"),
      },
      "整改方案已保存。",
    );
  });
  $("#submit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(event.target, `/hazards/${current.id}/submit`, { notes: text(event.target, "notes") }, "已提交验收。");
  });
  $("#accept-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    if (!(await confirmStep(...ASK.accept(current)))) return;
    act(form, `/hazards/${current.id}/accept`, { notes: text(form, "notes") }, `${current.number} 已验收销号。`);
  });
  $("#new-form").addEventListener("submit", capture);
  $("#source-form").addEventListener("submit", registerSource);
  $("#source-list").addEventListener("click", (event) => {
    const button = event.target.closest("[data-placard]");
    if (button) openPlacard(button.dataset.placard).catch((problem) => notice(problem.message));
  });
  $("#duties").addEventListener("click", onDutyClick);
  $("#register-enterprise").addEventListener("change", () => showRegister());
  $("#register-export").addEventListener("click", () => exportRegister().catch((problem) => notice(`未能导出：${problem.message}`)));
  $("#register-file").addEventListener("change", (event) => {
    $("#register-commit").disabled = true;
    $("#register-report").replaceChildren();
    const [file] = event.target.files;
    $("#register-file-picked").textContent = file ? file.name : "未选择文件";
  });
  $("#register-import").addEventListener("submit", (event) => {
    event.preventDefault();
    importRegister(true);
  });
  $("#register-commit").addEventListener("click", () => importRegister(false));
  $("#queue-index").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-id]");
    if (button) selectDesk(button.dataset.id);
  });
  $("#abnormal-form").addEventListener("submit", onAbnormal);
  $("#abnormal-cancel").addEventListener("click", () => {
    $("#abnormal-form").hidden = true;
  });
  $("#new-form").level.addEventListener("change", (event) => {
    $("#new-basis-field").hidden = event.target.value !== "major";
  });
  $("#reject-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    if (!checkRequired(form)) return;
    if (!(await confirmStep(...ASK.reject(current)))) return;
    act(form, `/hazards/${current.id}/reject`, { reason: text(form, "reason") }, `${current.number} 已驳回，退回整改。`);
  });
  $("#void-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    if (!checkRequired(form)) return;
    if (!(await confirmStep(...ASK.void(current)))) return;
    act(form, `/hazards/${current.id}/void`, { reason: text(form, "reason") }, `${current.number} 已作废。`);
  });
  $("#extension-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    if (!checkRequired(form)) return;
    act(
      form,
      `/hazards/${current.id}/extensions`,
      { requested_deadline: text(form, "requested_deadline"), reason: text(form, "reason") },
      "延期申请已提交，等待园区审批。",
    );
  });
  $("#photo-file").addEventListener("change", async (event) => {
    const input = event.target;
    const file = input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("phase", current.state === "reported" ? "before" : "after");
    form.append("file", file, file.name || "photo.jpg");
    $("#photo-error").textContent = "";
    try {
      await api(`/hazards/${current.id}/attachments`, { method: "POST", form });
      input.value = "";
      notice("照片已上传。");
      await showHazard(current.id);
    } catch (problem) {
      if (problem instanceof Problem && problem.status !== 401) {
        $("#photo-error").textContent = Object.values(problem.errors)[0] || problem.message;
      }
    }
  });
  document.addEventListener("input", clearOnChange);
  document.addEventListener("change", clearOnChange);
  $("#new-photos").addEventListener("change", () => showThumbs("new"));
  $("#abnormal-photos").addEventListener("change", () => showThumbs("abnormal"));
  $("#view-desk").addEventListener("click", (event) => {
    const image = event.target.closest(".photos img");
    if (!image) return;
    $("#zoom-image").src = image.src;
    $("#zoom-image").alt = image.alt;
    $("#zoom").showModal();
  });
  $("#filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showMine().catch((problem) => notice(problem.message));
  });
  $("#filter-form").addEventListener("reset", () => {
    setTimeout(() => showMine().catch((problem) => notice(problem.message)));
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("offline", () => linkState(false));
  window.addEventListener("online", () => {
    linkState(true);
    if (sessionStorage.getItem(TOKEN)) flush();
  });
}

async function route() {
  const hash = location.hash || "#/mine";
  if (noticeFor !== null && noticeFor !== location.hash) notice("");
  if (!sessionStorage.getItem(TOKEN)) {
    show("signin");
    $("#signin-email").focus();
    return;
  }
  try {
    await whoAmI();
    const hazard = hash.match(/^#\/hazard\/([0-9a-f-]{36})$/);
    if (hazard) {
      await showHazard(hazard[1]);
      show("hazard");
    } else if (hash === "#/new" && REPORTING_ROLES.includes(me.role)) {
      await showNew();
      await showWaiting();
      show("new");
    } else if (hash === "#/checks" && CHECK_ROLES.includes(me.role)) {
      $("#abnormal-form").hidden = true;
      await showChecks();
      show("checks");
    } else if (hash === "#/register" && REGISTER_ROLES.includes(me.role)) {
      await showRegister();
      show("register");
    } else if (hash === "#/sources" && REGISTER_ROLES.includes(me.role)) {
      await showSources();
      show("sources");
    } else if (hash === "#/desk" && DESK_ROLES.includes(me.role)) {
      await showDesk();
      show("desk");
    } else if (hash === "#/waiting") {
      await showOutbox(false);
    } else {
      await showMine();
      show("mine");
    }
  } catch (problem) {
    if (problem instanceof Problem && problem.status === 401) return;
    // No answer from the service: what this phone keeps, not an error.
    if (!(problem instanceof Problem)) return showOutbox(true);
    notice(problem.message || "加载失败，请稍后重试。");
  }
}

/// The outbox's own page; `offline` when it stands in for a page that
/// could not be read.
async function showOutbox(offline) {
  await showWaiting();
  $("#waiting-why").hidden = !offline;
  show("waiting");
}

wire();
if (!navigator.onLine) linkState(false);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
route().then(() => {
  if (sessionStorage.getItem(TOKEN)) flush();
});
// A link that comes back without telling the browser: try again now and then.
setInterval(() => {
  if (sessionStorage.getItem(TOKEN)) waiting().then((left) => left.length && flush());
}, 15000);
