// The consult room: a call through the SFU, where everyone publishes their camera and
// microphone once and watches whom they need; the server takes from the SFU what each person
// agreed to have analysed (their face, their voice, both or neither). See ingest/signalling.py
// and ingest/sfu.py.
// Who may enter is settled before anything else (ingest/admission.py): a refused person sees
// why, and no camera or consent prompt.
"use strict";

const params = new URLSearchParams(location.search);
const roomName = decodeURIComponent(location.pathname.split("/")[2]);
// The invitation rides in the link's fragment, which the browser never sends to a server.
const invitation = new URLSearchParams(location.hash.slice(1)).get("invitation");
let role = null;  // from the admission, never from the address
const state = {ws: null, me: null, peers: new Map(), local: null,
               consent: {face: false, voice: false}, settings: null, latest: new Map(),
               left: false, kind: null, published: null, watching: new Map(), speech: null,
               feeds: new Set(), asked: 0};  // feeds: the peers whose video is up
const ROLE_NAMES = {consultant: "consultant", client: "client", student: "student"};
const ANALYSES = ["face", "voice"];
// What each role is asked to agree to, as the room offers it (ingest/rooms.py OFFERED): a
// consultant's face is never analysed, their share of the talk is.
const OFFERED = {consultant: ["voice"], client: ANALYSES, student: ANALYSES};
const offered = () => OFFERED[role];
// Who spoke, until the room first says (ingest/talk.py): nobody yet.
const NO_SPEECH = {speaking: [], recent: {}, session: {}, spoken: [], hints: []};
const FRESH_MS = 10_000;  // an update older than this no longer describes the room
const $ = (id) => document.getElementById(id);
// The emotions and their colours come from the server (contracts/labels.py) on joining.
const emotions = () => state.settings.emotions;
const colour = (emotion) => state.settings.colours[emotion];

function setStatus(text) { $("status").textContent = text; }

class Refused extends Error {
  constructor(message, signIn) { super(message); this.signIn = signIn; }
}

async function admission() {
  const response = await fetch(`/room/${encodeURIComponent(roomName)}/admission`, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({invitation}),
  });
  const body = await response.json();
  if (!response.ok) throw new Refused(body.error, body.sign_in);
  return body;
}

function refuse(refusal) {
  $("refused").hidden = false;
  $("refusal").textContent = refusal.message;
  if (refusal.signIn) {
    $("sign-in").href = refusal.signIn;
    $("sign-in").hidden = false;
  }
  setStatus("Not admitted");
}

function welcome(entry) {
  const {consultant, kind} = entry.room;
  let text = `${consultant} invited you to a ${kind}.`;
  if (entry.role === "consultant") {
    text = entry.name === consultant ? `Your ${kind}.` : `You co-host ${consultant}'s ${kind}.`;
  }
  $("welcome").textContent = text;
  $("welcome").hidden = false;
}

async function askName(entry) {
  if (entry.name) return entry.name;
  const given = (params.get("name") || "").trim();
  if (given) return given;
  $("name-form").hidden = false;
  return new Promise((resolve) => $("name-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("name-input").value.trim();
    $("name-problem").hidden = Boolean(name);
    if (!name) return;
    $("name-form").hidden = true;
    resolve(name);
  }));
}

// Each analysis is asked about on its own, and none is ticked beforehand: only what the person
// chooses runs. A consultant is asked about their voice alone.
async function askConsent() {
  const consultant = role === "consultant";
  $("consent-intro").hidden = $("face-choice").hidden = consultant;
  $("consultant-intro").hidden = $("consultant-share").hidden = !consultant;
  $("consent").hidden = false;
  const chosen = () => Object.fromEntries(ANALYSES.map(
    (analysis) => [analysis, offered().includes(analysis) && $(`consent-${analysis}`).checked]));
  const name = () => { $("join").textContent = joinLabel(chosen()); };
  ANALYSES.forEach((analysis) => { $(`consent-${analysis}`).onchange = name; });
  name();
  return new Promise((resolve) => {
    $("join").onclick = () => { $("consent").hidden = true; resolve(chosen()); };
  });
}

function joinLabel(consent) {
  const on = offered().filter((analysis) => consent[analysis]);
  return on.length ? `Join with ${on.join(" and ")} analysis` : "Join without analysis";
}

// Echo cancellation keeps the others' voices, played by this computer, out of this person's
// microphone, and so out of their talk time; all three are asked for, not left to the browser.
const VOICE = {echoCancellation: true, noiseSuppression: true, autoGainControl: true};

async function openCamera() {
  try {
    return await navigator.mediaDevices.getUserMedia({video: true, audio: VOICE});
  } catch (error) {
    // No microphone, or it was refused: the person joins seen but not heard.
    return navigator.mediaDevices.getUserMedia({video: true});
  }
}

function microphone() {
  return state.local.getAudioTracks().find((track) => track.readyState === "live");
}

// "none" is not "muted": the consultant reads a missing microphone and a muted one apart.
function microphoneState() {
  const track = microphone();
  return !track ? "none" : track.enabled ? "on" : "muted";
}

function showMicrophone() {
  const now = microphoneState();
  $("microphone").hidden = now === "none";
  $("microphone").textContent = now === "muted" ? "Unmute" : "Mute";
  $("no-microphone").hidden = now !== "none";
}

function sendMicrophone() {
  // Before the socket opens, the first publish tells the room.
  if (state.ws?.readyState === WebSocket.OPEN) send({type: "microphone", state: microphoneState()});
  showMicrophone();
}

function toggleMicrophone() {
  const track = microphone();
  if (track) track.enabled = !track.enabled;
  sendMicrophone();
}

function iceGathered(pc) {
  // Descriptions go to the SFU complete, with every candidate: the room trickles none.
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

function send(message) { state.ws.send(JSON.stringify(message)); }

// People are identities, not names: two "Tina"s in a room show as "Tina (1)" and "Tina (2)",
// numbered in the order they joined, as in the dashboard (contracts/people.py).
function labelOf(id) {
  const entry = state.peers.get(id);
  if (!entry) return "";
  const namesakes = [...state.peers.values()].filter((e) => e.info.name === entry.info.name);
  const number = namesakes.indexOf(entry) + 1;
  return namesakes.length > 1 ? `${entry.info.name} (${number})` : entry.info.name;
}

function roleName(peer) {
  return peer.cohost ? "co-host" : ROLE_NAMES[peer.role];
}

function showPeople() {
  // Everyone sees who else is in the room, and in what role.
  const me = document.createElement("li");
  me.textContent = "You";
  const others = [...state.peers.entries()].map(([id, entry]) => {
    const item = document.createElement("li");
    item.id = `person-${id}`;
    const role = document.createElement("span");
    role.className = "role";
    role.textContent = ` (${roleName(entry.info)})`;
    item.append(labelOf(id), role);
    return item;
  });
  $("people").replaceChildren(me, ...others);
}

function relabel() {
  showPeople();
  state.peers.forEach((entry, id) => {
    const caption = document.querySelector(`#peer-${id} figcaption`);
    if (caption) caption.textContent = `${labelOf(id)} (${roleName(entry.info)})`;
    const heading = document.querySelector(`#live-${id} h3`);
    if (heading) heading.textContent = labelOf(id);
  });
}

function tileOf(id) {
  // One tile per person, their video and reading together: in a class of 50 the consultant
  // reads each student where they see them, not in a second list.
  let tile = $(`peer-${id}`);
  if (!tile) {
    tile = document.createElement("figure");
    tile.id = `peer-${id}`;
    tile.className = "tile";
    tile.innerHTML = `<figcaption></figcaption><video autoplay playsinline></video>`;
    $("participants").append(tile);
    if (isGallery()) observeOnScreen(tile, id);
    relabel();
  }
  return tile;
}

function connections() {
  return [...(state.published ? [state.published] : []),
          ...[...state.watching.values()].filter((pc) => pc instanceof RTCPeerConnection)];
}

// Janus may drop one page's connections and keep the call (it stopped hearing the page, the
// network changed): a connection that fails, stays disconnected past a short grace (a brief
// loss of packets mends on its own) or never comes up is set up anew, as when the SFU restarts,
// after 1 s, then 2, 4 … up to 30 s while the tries fail, and from 1 s again once all is back.
const GRACE_MS = 5_000, SETUP_MS = 30_000, FIRST_RETRY_MS = 1_000, LAST_RETRY_MS = 30_000;
const retry = {attempt: 0, at: 0, timer: null, redo: new Map()};  // redo: pc → how to redo it

function supervise(pc, redo) {
  let deadline = setTimeout(() => lost(pc, redo), SETUP_MS);
  pc.addEventListener("connectionstatechange", () => {
    const now = pc.connectionState;
    if (now === "connecting") return;  // still within its time to come up
    clearTimeout(deadline);
    if (now === "connected") showIfBack();
    else if (now === "failed") lost(pc, redo);
    else if (now === "disconnected") deadline = setTimeout(() => lost(pc, redo), GRACE_MS);
  });
}

function lost(pc, redo) {
  if (pc.connectionState === "closed" || state.left) return;  // hung up here meanwhile
  retry.redo.set(pc, redo);
  if (retry.timer) return;  // it goes with the try already counting down
  const wait = Math.min(FIRST_RETRY_MS * 2 ** retry.attempt, LAST_RETRY_MS);
  retry.attempt += 1;
  retry.at = Date.now() + wait;
  retry.timer = setInterval(countDown, 1_000);
  countDown();
}

function countDown() {
  const seconds = Math.ceil((retry.at - Date.now()) / 1_000);
  if (seconds > 0) return showLost(`reconnecting in ${seconds} s…`);
  showLost("reconnecting…");
  clearInterval(retry.timer);
  retry.timer = null;
  const redos = [...retry.redo].filter(([pc]) => pc.connectionState !== "closed");
  retry.redo.clear();
  redos.forEach(([, redo]) => Promise.resolve(redo()).catch((error) => setStatus(String(error))));
}

function showLost(what) {
  $("connection-lost").textContent = `Connection to the call lost — ${what}`;
  $("connection-lost").hidden = false;
}

function showIfBack() {
  const back = !retry.timer && connections().every((pc) => pc.connectionState === "connected");
  if (!back) return;
  retry.attempt = 0;
  $("connection-lost").hidden = true;
}

function stopRetrying() {
  clearInterval(retry.timer);
  retry.timer = null;
  retry.redo.clear();
  $("connection-lost").hidden = true;
}

// Everyone publishes their camera once, in the simulcast layers the room gives (ingest/layers.py:
// the small one for thumbnails and analysis, which the server takes from the SFU itself), and
// watches whom they need: a consultant everyone, a client or student the consultants.
const layers = () => state.settings.layers;

async function publish() {
  const pc = state.published = new RTCPeerConnection({iceServers: state.settings.iceServers});
  supervise(pc, republish);
  for (const track of state.local.getTracks()) {
    const sendEncodings = track.kind === "video" ? layers().encodings : undefined;
    pc.addTransceiver(track, {direction: "sendonly", sendEncodings});
  }
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc);
  send({type: "publish", sdp: pc.localDescription.sdp});
  // The room takes a microphone to be on until told: after a rejoin it is told again.
  sendMicrophone();
}

function layerFor(peer) {
  // A class's students show as thumbnails, but the one on the teacher's stage; a client, and
  // consultants, in full.
  const thumbnail = peer.role !== "consultant" && state.kind === "class";
  return thumbnail && gallery.stage !== peer.id ? layers().small : layers().large;
}

function watch(id) {
  const entry = state.peers.get(id);
  if (!entry || state.watching.has(id) || !state.feeds.has(id) || !shown(id)) return;
  if (role !== "consultant" && entry.info.role !== "consultant") return;
  // Until its offer comes, the subscription is known by its number: an offer for one given up
  // meanwhile (scrolled away, asked anew) is not taken.
  const ref = state.asked += 1;
  state.watching.set(id, ref);
  send({type: "subscribe", feed: id, substream: layerFor(entry.info), ref});
}

function unwatch(id) {
  if (!state.watching.has(id)) return;
  const pc = state.watching.get(id);
  if (pc instanceof RTCPeerConnection) pc.close();
  state.watching.delete(id);
  videosOf(id).forEach((video) => { video.srcObject = null; });
  // Janus lets go of the subscription too: a teacher scrolling past fifty would leave fifty.
  if (state.ws?.readyState === WebSocket.OPEN) send({type: "unsubscribe", feed: id});
}

// A teacher's class is a gallery whose thumbnails scroll in their box: their page subscribes to
// the students whose thumbnail is on screen, and only while it is (after a moment, so that
// scrolling past subscribes to nobody): fifty thumbnails decoding at once would take a laptop's
// whole processor (econsult bench class). A student the teacher chose, or else the last student
// who spoke, is shown large on the stage, at the large layer.
const ON_SCREEN_MS = 300, OFF_SCREEN_MS = 3_000;
const gallery = {observer: null, onScreen: new Set(), timers: new Map(), chosen: null,
                 speaker: null, stage: null};
const isGallery = () => role === "consultant" && state.kind === "class";

function shown(id) {
  return !isGallery() || gallery.onScreen.has(id) || gallery.stage === id;
}

function videosOf(id) {
  return [$(`peer-${id}`)?.querySelector("video"),
          gallery.stage === id ? $("stage-video") : null].filter(Boolean);
}

function observeOnScreen(tile, id) {
  gallery.observer ??= new IntersectionObserver((entries) => entries.forEach((entry) => {
    const peer = entry.target.id.slice("peer-".length);
    clearTimeout(gallery.timers.get(peer));
    gallery.timers.set(peer, setTimeout(() => {
      if (entry.isIntersecting) gallery.onScreen.add(peer);
      else gallery.onScreen.delete(peer);
      (shown(peer) ? watch : unwatch)(peer);
    }, entry.isIntersecting ? ON_SCREEN_MS : OFF_SCREEN_MS));
  }), {root: $("participants")});
  gallery.observer.observe(tile);
  tile.querySelector("video").onclick = () => choose(id);
}

function choose(id) {
  // Clicking a thumbnail puts that student on the stage; clicking the stage, or the same
  // thumbnail again, takes them off it (until someone speaks).
  gallery.chosen = gallery.chosen === id || !id ? null : id;
  if (!gallery.chosen) gallery.speaker = null;
  showStage();
}

function showStage() {
  const next = gallery.chosen ?? gallery.speaker;
  const previous = gallery.stage;
  if (next === previous) return;
  if (previous) unwatch(previous);
  if (next) unwatch(next);
  gallery.stage = next;
  $("stage").hidden = !next;
  $("stage").querySelector("figcaption").textContent = next ? labelOf(next) : "";
  [previous, next].filter(Boolean).forEach(watch);
}

// Publishing or watching anew: the connection in place (dropped, or carrying a feed that is
// gone) is hung up first.
async function republish() {
  state.published.close();
  await publish();
}

function rewatch(id) {
  unwatch(id);
  watch(id);
}

async function onSubscription(message) {
  const entry = state.peers.get(message.feed);
  if (!entry || state.watching.get(message.feed) !== message.ref) return;
  const pc = new RTCPeerConnection({iceServers: state.settings.iceServers});
  supervise(pc, () => rewatch(message.feed));
  state.watching.set(message.feed, pc);
  const stream = new MediaStream();  // this subscription's, not an earlier one's
  pc.ontrack = (event) => {
    stream.addTrack(event.track);
    const video = gallery.stage === message.feed ? $("stage-video")
      : tileOf(message.feed).querySelector("video");
    video.srcObject = stream;
  };
  await pc.setRemoteDescription({type: "offer", sdp: message.sdp});
  await pc.setLocalDescription(await pc.createAnswer());
  await iceGathered(pc);
  send({type: "subscribed", feed: message.feed, sdp: pc.localDescription.sdp});
}

function showConsent() {
  ANALYSES.forEach((analysis) => {
    const button = $(`toggle-${analysis}`);
    button.hidden = !offered().includes(analysis);
    button.textContent = `${state.consent[analysis] ? "Stop" : "Allow"} ${analysis} analysis`;
  });
  const each = offered().map((analysis) =>
    `${analysis} analysis is ${state.consent[analysis] ? "on" : "off"}`);
  setStatus(`In the call; ${each.join(", ")}`);
}

function toggleConsent(analysis) {
  // The server takes the analysis stream from the SFU, or stops taking it: nothing to send.
  state.consent[analysis] = !state.consent[analysis];
  send({type: "consent", analysis, given: state.consent[analysis]});
  showConsent();
  showTalk();
}

function feedbackCard(id) {
  let card = $(`live-${id}`);
  if (!card) {
    card = document.createElement("div");
    card.id = `live-${id}`;
    card.className = "participant";
    card.innerHTML = `<h3></h3><div class="dominant muted">waiting for analysis…</div>
      <div class="personal muted"></div><div class="negativity" hidden></div><div class="presence muted"></div><div class="score"></div><div class="bars"></div>`;
    tileOf(id).append(card);
    relabel();
  }
  return card;
}

// A class's readings come twice a second per student: the teacher's page shows them every
// RENDER_MS, each card once with its latest reading, rather than drawing the page anew for
// each (in a class of 25, 50 times a second: over a tenth of a laptop's processor, econsult
// bench class). Text that did not change is not written again.
const RENDER_MS = 500;
const rendering = {due: new Map(), timer: null};

function showLive(update) {
  if (!isGallery()) {
    showReading(update);
    showClassSummary();
    return;
  }
  rendering.due.set(update.participant, update);
  rendering.timer ??= setTimeout(() => {
    rendering.timer = null;
    const due = [...rendering.due.values()];
    rendering.due.clear();
    due.forEach(showReading);
    showClassSummary();
  }, RENDER_MS);
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function showReading(update) {
  // A reading of a frame from before a withdrawal may still come: the card says "not
  // analysed" from the withdrawal on.
  if (!state.peers.get(update.participant)?.info.consent.face) return;
  const card = feedbackCard(update.participant);
  card.dataset.captured = update.captured_at_ms;  // the stored frame this card shows
  const dominant = card.querySelector(".dominant");
  const others = update.others_in_view;
  const facing = update.facing_screen === null ? ""
    : update.facing_screen ? ", facing the screen" : ", turned away from the screen";
  setText(card.querySelector(".presence"),
          (update.face_found ? `face in view${facing}` : "no face in view") +
          (others ? ` · ${others} other ${others === 1 ? "face" : "faces"} in view (not analysed)`
                  : ""));
  const personal = card.querySelector(".personal");
  if (!update.probabilities) {
    // No face, no estimate: an older one would be read as current.
    setText(dominant, "no expression to read");
    dominant.style.color = "";
    dominant.classList.add("muted");
    setText(personal, "");
    card.querySelector(".bars").innerHTML = "";
  } else {
    // "unclear: A or B" when the model is not sure: shown muted, in no expression's colour.
    setText(dominant, update.shown);
    dominant.style.color = update.leading ? colour(update.leading) : "";
    dominant.classList.toggle("muted", !update.leading);
    setText(personal, update.personal ? `compared with their usual expression: ${update.personal}`
                                      : "learning their usual expression…");
    // A gallery's thumbnails show no shares (the class summary counts them instead).
    if (!isGallery()) {
      card.querySelector(".bars").innerHTML = emotions().map((emotion) => {
        const share = Math.round(100 * update.probabilities[emotion]);
        return `<div class="bar"><span>${emotion}</span><span><span class="fill"
          style="width:${share}%;background:${colour(emotion)}"></span></span><span>${share}%</span></div>`;
      }).join("");
    }
  }
  showNegativity(card, update.negative_for_s);
  if (update.quality !== null) {
    setText(card.querySelector(".score"), `quality ${Math.round(update.quality)} / 100`);
  }
  if (update.session_quality !== null) {
    setText($("session-quality"), String(Math.round(update.session_quality)));
  }
  state.latest.set(update.participant, {...update, at: Date.now()});
}

// The lasting-negativity alert, as the live dashboard shows it (contracts/alert.py): a hint on
// the person's card, there only while the rule holds and their face analysis is on.
function showNegativity(card, seconds) {
  const line = card.querySelector(".negativity");
  if (line.hidden !== (seconds === null)) line.hidden = seconds === null;
  setText(line, seconds === null ? "" : `negative expressions for the last ${Math.round(seconds)} s`);
}

function showClassSummary() {
  // With a class, the teacher reads the room at a glance rather than card by card.
  const others = [...state.peers.values()].map((e) => e.info).filter((p) => p.role !== "consultant");
  const summary = $("class-summary");
  summary.hidden = others.length < 2;
  const fresh = others.map((p) => state.latest.get(p.id))
    .filter((u) => u && Date.now() - u.at < FRESH_MS);
  const counts = Object.fromEntries(emotions().map((e) => [e, 0]));
  fresh.filter((u) => u.leading).forEach((u) => { counts[u.leading] += 1; });
  const unclear = fresh.filter((u) => u.probabilities && !u.leading).length;
  const analysed = others.filter((p) => p.consent.face).length;
  const inView = fresh.filter((u) => u.face_found).length;
  const html = `<p><strong>${inView}</strong> of ${analysed} analysed participants with a
    face in view (${others.length - analysed} not analysed)</p>` +
    emotions().filter((e) => counts[e]).map((e) => `<span class="chip" style="background:${colour(e)}">
      ${e} ${counts[e]}</span>`).join(" ") +
    (unclear ? ` <span class="chip muted">unclear ${unclear}</span>` : "");
  if (summary.dataset.shown !== html) {
    summary.innerHTML = html;
    summary.dataset.shown = html;
  }
}

function showPeerConsent(peer) {
  // The consultant sees every participant, analysed or not, so nobody is silently left out.
  if (role !== "consultant" || peer.role === "consultant") return;
  const card = feedbackCard(peer.id);
  const dominant = card.querySelector(".dominant");
  dominant.className = "dominant muted";
  dominant.style.color = "";
  dominant.textContent = peer.consent.face ? "waiting for analysis…"
                                            : "face not analysed (no consent)";
  if (!peer.consent.face) {
    // What was read before a withdrawal would be taken for now.
    card.querySelector(".presence").textContent = "";
    card.querySelector(".personal").textContent = "";
    card.querySelector(".bars").innerHTML = "";
    showNegativity(card, null);
    state.latest.delete(peer.id);
  }
  showClassSummary();
}

// The consultant reads each person's voice on their tile: speaking, silent, or why nothing
// can be heard or measured (muted, no microphone, voice not analysed), and their talk share.
function showVoice(id) {
  const peer = state.peers.get(id).info;
  const tile = tileOf(id);
  let line = tile.querySelector(".voice");
  if (!line) {
    line = document.createElement("p");
    line.className = "voice";
    line.innerHTML = `<span class="speaking-state"></span> <span class="talk-share"></span>
      <span class="spoken"></span>`;
    tile.querySelector("figcaption").after(line);
  }
  const speech = state.speech || NO_SPEECH;
  const speaking = peer.consent.voice && speech.speaking.includes(id);
  const states = {on: [], muted: ["muted"], none: ["no microphone"]}[peer.microphone];
  if (!peer.consent.voice) states.push("voice not analysed");
  else if (peer.microphone === "on") states.push(speaking ? "speaking" : "silent");
  tile.classList.toggle("speaking", speaking);
  line.querySelector(".speaking-state").textContent = states.join(" · ");
  line.querySelector(".talk-share").textContent = id in speech.session
    ? `· talk ${percent(speech.recent, id)} of the last 5 min, `
      + `${percent(speech.session, id)} of the session`
    : "";
  const spoken = state.kind === "class" && speech.spoken.includes(id);
  line.querySelector(".spoken").textContent = spoken ? "· has spoken" : "";
  tile.classList.toggle("has-spoken", spoken);
}

function percent(shares, id) {
  return Object.keys(shares).length ? `${Math.round(shares[id] || 0)}%` : "–";
}

// A discreet panel: the consultant's own share of the talk, the room's hints, and in a class
// how many students have spoken.
function showTalk() {
  if (role !== "consultant") return;
  const speech = state.speech || NO_SPEECH;
  $("talk").hidden = false;
  $("own-share").textContent = !state.consent.voice
    ? "Your share of the talk is not measured: your voice analysis is off."
    : `Your share of the talk: ${percent(speech.recent, state.me)} in the last 5 minutes, `
      + `${percent(speech.session, state.me)} this session.`;
  const students = [...state.peers.values()].map((e) => e.info)
    .filter((p) => p.role === "student");
  const spoken = students.filter((p) => speech.spoken.includes(p.id)).length;
  const unanalysed = students.filter((p) => !p.consent.voice).length;
  $("spoken-count").hidden = state.kind !== "class";
  $("spoken-count").textContent = `${spoken} of ${students.length} students have spoken`
    + (unanalysed ? ` (${unanalysed} not analysed)` : "");
  $("hints").replaceChildren(...speech.hints.map((hint) => {
    const item = document.createElement("li");
    item.textContent = hint;
    return item;
  }));
  state.peers.forEach((entry, id) => showVoice(id));
}

function dropPeer(id) {
  unwatch(id);
  showIfBack();
  state.feeds.delete(id);
  gallery.onScreen.delete(id);
  if (gallery.chosen === id) gallery.chosen = null;
  if (gallery.speaker === id) gallery.speaker = null;
  showStage();
  state.peers.delete(id);
  state.latest.delete(id);
  $(`peer-${id}`)?.remove();
  relabel();
}

function leave() {
  state.left = true;
  stopRetrying();
  if (state.published) state.published.close();
  state.peers.forEach((entry, id) => dropPeer(id));
  if (state.ws) state.ws.close();
  if (state.local) state.local.getTracks().forEach((track) => track.stop());
}

const handlers = {
  async joined(message) {
    state.me = message.id;
    state.settings = message;
    sessionStorage.setItem(`econsult:${roomName}`, message.id);
    message.peers.forEach((peer) => {
      state.peers.set(peer.id, {info: peer});
      showPeerConsent(peer);
    });
    relabel();
    if (role === "consultant") {
      $("feedback").hidden = false;
      $("end").hidden = false;
    }
    showConsent();
    showTalk();
    await publish();
    message.published.forEach((id) => { state.feeds.add(id); watch(id); });
  },
  async published(message) {
    await state.published.setRemoteDescription({type: "answer", sdp: message.sdp});
    showConsent();
  },
  async reconnect(message) {
    // The SFU lost the call (it restarted): publish again. The others do too, and each is
    // watched again once the room says their video is up (peer-published).
    setStatus(`Reconnecting: ${message.message}`);
    [...state.watching.keys()].forEach(unwatch);
    await republish();
  },
  // Their video is up, for the first time or anew (they published again): what this page
  // watched of them before carries nothing any more.
  "peer-published": (message) => { state.feeds.add(message.id); rewatch(message.id); },
  subscription: onSubscription,
  async "peer-joined"(message) {
    state.peers.set(message.peer.id, {info: message.peer});
    showPeerConsent(message.peer);
    relabel();  // watched once their video is up: peer-published
    showTalk();
  },
  "peer-left"(message) {
    dropPeer(message.id);
    showTalk();
  },
  "peer-consent"(message) {
    const entry = state.peers.get(message.id);
    if (!entry) return;
    entry.info.consent = message.consent;
    showPeerConsent(entry.info);
    showTalk();
  },
  "peer-microphone"(message) {
    const entry = state.peers.get(message.id);
    if (!entry) return;
    entry.info.microphone = message.state;
    showTalk();
  },
  speech(message) {
    state.speech = message;
    showTalk();
    const student = message.speaking.find((id) => state.peers.get(id)?.info.role === "student");
    if (isGallery() && student) {
      gallery.speaker = student;
      showStage();
    }
  },
  live: (message) => message.readings.forEach(showLive),
  ended(message) {
    leave();
    $("call").hidden = true;
    $("ended").hidden = false;
    setStatus(message.message ? `Session ended: ${message.message}` : "Session ended");
  },
  error: (message) => setStatus(`Problem: ${message.message}`),
};

async function main() {
  $("room-name").textContent = `· ${roomName}`;
  const entry = await admission();
  role = entry.role;
  state.kind = entry.room.kind;
  // A teacher watches a class as a gallery of thumbnails; everyone else sees people in full.
  $("call").classList.toggle("gallery", isGallery());
  $("stage-video").onclick = () => choose(null);
  welcome(entry);
  const name = await askName(entry);
  state.consent = await askConsent();
  state.local = await openCamera();
  // A microphone unplugged mid-call is none from then on.
  state.local.getAudioTracks().forEach((track) => track.addEventListener("ended", sendMicrophone));
  showMicrophone();
  $("local").srcObject = state.local;
  $("call").hidden = false;
  // On the server holding the room, which the admission named (ingest/placement.py).
  const socket = new URL(entry.socket, location.href);
  socket.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  state.ws = new WebSocket(socket);
  state.ws.onopen = () => send({type: "join", invitation, name, consent: state.consent,
                                rejoin: sessionStorage.getItem(`econsult:${roomName}`)});
  state.ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const handler = handlers[message.type];
    if (handler) Promise.resolve(handler(message)).catch((error) => setStatus(String(error)));
  };
  state.ws.onclose = () => { if ($("ended").hidden && !state.left) setStatus("Disconnected"); };
  ANALYSES.forEach((analysis) => {
    $(`toggle-${analysis}`).onclick = () => toggleConsent(analysis);
  });
  $("microphone").onclick = toggleMicrophone;
  $("end").onclick = () => send({type: "end"});
  $("leave").onclick = () => { leave(); $("call").hidden = true; setStatus("You left the call"); };
  window.addEventListener("pagehide", leave);
}

// For tests and troubleshooting from the console: the call's peer connections.
window.econsultConnections = connections;

main().catch((error) => {
  if (error instanceof Refused) refuse(error);
  else setStatus(`Could not start: ${error}`);
});
