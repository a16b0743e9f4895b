#!/usr/bin/env node
/*
 * Launcher for the Telegram Bot API emulator `telegram-test-api` (4.2.1) used by RegioTwin's
 * end-to-end tests. It starts the package's server on 127.0.0.1 and puts a thin front in
 * front of it that works around the package's known quirks – here, in test code, never in
 * the bot:
 *
 *   - getMe answers without `is_bot`                  -> answered here, as a complete User
 *   - callback_query updates lack `chat_instance`     -> added (formatUpdate is wrapped)
 *   - bot getUpdates ignores offset/limit/timeout     -> honours `timeout` (long polling) and
 *                                                        `limit`; still hands each update out
 *                                                        at most once, offset is still ignored
 *   - edit/answer/delete answer `result: null`        -> edited Message / true, as Telegram
 *   - sendMessage answers date in ms, chat type
 *     "private" and no `from`                         -> a Telegram-shaped Message
 *   - unsupported methods answer HTTP 500 {message}   -> Telegram-shaped 404 error (a few
 *                                                        fire-and-forget ones answer true)
 *   - client request without botToken / command
 *     without entities kills node (unhandled
 *     rejection)                                      -> validated here, answered with 400;
 *                                                        unhandled rejections are logged
 *   - stored messages expire after 60 s               -> storeTimeout defaults to 3600 s
 *   - deleteMessage may delete a button press that
 *     shares the message id instead of the message    -> own lookup, the bot's messages first
 *   - editMessageText keeps the old inline keyboard   -> dropped unless the edit repeats it
 *   - port 0 means 9000                               -> we listen ourselves, any free port
 *
 * Usage: node launcher.js [--port N] [--host H] [--store-timeout SECONDS]
 *   env: EMULATOR_PORT (default 0 = any free port), EMULATOR_HOST (default 127.0.0.1),
 *        EMULATOR_STORE_TIMEOUT (default 3600), EMULATOR_BOT_USERNAME,
 *        EMULATOR_EXIT_WITH_STDIN=1 (exit when stdin closes, so a dead parent leaks nothing),
 *        EMULATOR_VERBOSE=1 (log every request body).
 * Prints `READY <port>` on stdout once listening; all logging goes to stderr. Exits cleanly on
 * SIGTERM/SIGINT.
 */

'use strict';

const http = require('http');
const path = require('path');

const TelegramServer = require('telegram-test-api');

// express and http-shutdown are the package's own dependencies: resolve them from there.
const packageDir = path.dirname(require.resolve('telegram-test-api/package.json'));
// eslint-disable-next-line import/no-dynamic-require
const requireDep = (name) => require(require.resolve(name, { paths: [packageDir] }));
const express = requireDep('express');
const addShutdown = requireDep('http-shutdown');

// ---------------------------------------------------------------------------------------------
// configuration

function argValue(name) {
  const index = process.argv.indexOf(name);
  if (index !== -1 && index + 1 < process.argv.length) return process.argv[index + 1];
  const prefixed = process.argv.find((arg) => arg.startsWith(`${name}=`));
  return prefixed === undefined ? undefined : prefixed.slice(name.length + 1);
}

const PORT = Number(argValue('--port') || process.env.EMULATOR_PORT || 0);
const HOST = argValue('--host') || process.env.EMULATOR_HOST || '127.0.0.1';
const STORE_TIMEOUT = Number(
  argValue('--store-timeout') || process.env.EMULATOR_STORE_TIMEOUT || 3600,
);
const BOT_USERNAME = process.env.EMULATOR_BOT_USERNAME || 'RegioTwinTestBot';
const BOT_FIRST_NAME = process.env.EMULATOR_BOT_FIRST_NAME || 'RegioTwin Test';
const VERBOSE = process.env.EMULATOR_VERBOSE === '1';
const MAX_POLL_SECONDS = 50;
// Methods the package lacks whose effect nobody can observe: answered `true`, and logged.
const NOOP_TRUE_METHODS = new Set([
  'sendchataction',
  'setmycommands',
  'deletemycommands',
  'setmydescription',
  'setmyshortdescription',
  'setmyname',
  'setchatmenubutton',
  'setmydefaultadministratorrights',
]);
// Methods still answered by the package itself (everything else is answered in front).
const PACKAGE_METHODS = new Set(['setwebhook', 'deletewebhook']);

function log(...parts) {
  process.stderr.write(`[emulator ${new Date().toISOString()}] ${parts.join(' ')}\n`);
}

function short(value, max = 120) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return 'undefined';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// the package's server, its update formatting patched

const server = new TelegramServer({
  host: HOST,
  port: PORT || 9000, // the package turns 0 into 9000; we listen ourselves below
  storeTimeout: STORE_TIMEOUT,
});
server.setMaxListeners(0); // every waiting long poll listens for new updates

const knownChats = new Map(); // String(chat id) -> chat object seen in a user update
const callbackAnswers = []; // {botToken, time, ...answerCallbackQuery params}

function rememberChat(chat) {
  if (chat && chat.id !== undefined) knownChats.set(String(chat.id), chat);
}

function botFrom(token) {
  const match = /^(\d+):/.exec(String(token));
  return {
    id: match ? Number(match[1]) : 666,
    is_bot: true,
    first_name: BOT_FIRST_NAME,
    username: BOT_USERNAME,
  };
}

function chatFor(chatId) {
  const known = knownChats.get(String(chatId));
  if (known) return known;
  return { id: Number(chatId), type: Number(chatId) < 0 ? 'group' : 'private' };
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

function findBotMessage(token, chatId, messageId) {
  return server.storage.botMessages.find((entry) => (
    entry.botToken === token
    && String(entry.messageId) === String(messageId)
    && String(entry.message.chat_id) === String(chatId)
  ));
}

// A stored bot message (the raw sendMessage request) as Telegram would show it.
function botMessageView(entry) {
  const stored = entry.message;
  const view = {
    message_id: entry.messageId,
    from: botFrom(entry.botToken),
    chat: chatFor(stored.chat_id),
    date: Math.floor(entry.time / 1000),
    text: stored.text,
  };
  if (Array.isArray(stored.entities)) view.entities = stored.entities;
  if (stored.reply_markup && Array.isArray(stored.reply_markup.inline_keyboard)) {
    view.reply_markup = stored.reply_markup;
  }
  if (stored.edit_date) view.edit_date = stored.edit_date;
  return view;
}

function chatInstance(chatId) {
  return `emulated-${chatId}`;
}

const originalFormatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = function formatUpdate(update) {
  const formatted = originalFormatUpdate.call(this, update);
  if (formatted.callback_query) {
    const query = formatted.callback_query;
    let message = query.message || {};
    const chatId = message.chat ? message.chat.id : undefined;
    const entry = findBotMessage(update.botToken, chatId, message.message_id);
    if (entry) {
      // The message the button hangs under, in its current (possibly edited) state.
      message = { ...botMessageView(entry), chat: message.chat };
    } else if (message.date === undefined) {
      message = { ...message, date: nowSeconds() };
    }
    formatted.callback_query = {
      ...query,
      message,
      chat_instance: query.chat_instance || chatInstance(chatId),
    };
    if (formatted.callback_query.data === undefined) delete formatted.callback_query.data;
  } else if (formatted.message) {
    const { botToken, ...message } = formatted.message; // the client's token is no field
    if (message.date === undefined) message.date = Math.floor(update.time / 1000);
    formatted.message = message;
  }
  return formatted;
};

// ---------------------------------------------------------------------------------------------
// helpers for the front

const JSON_FIELDS = ['reply_markup', 'entities', 'link_preview_options', 'reply_parameters',
  'allowed_updates'];

function params(req) {
  const merged = { ...req.query, ...(req.body && typeof req.body === 'object' ? req.body : {}) };
  for (const field of JSON_FIELDS) {
    if (typeof merged[field] === 'string') {
      try {
        merged[field] = JSON.parse(merged[field]);
      } catch (error) {
        // keep the raw string; the method check below complains if it matters
      }
    }
  }
  return merged;
}

function ok(res, result) {
  res.status(200).json({ ok: true, result });
}

function fail(res, code, description) {
  res.status(code).json({ ok: false, error_code: code, description });
}

// Telegram refuses buttons whose callback_data is empty or longer than 64 bytes.
function markupProblem(markup) {
  if (markup === undefined || markup === null) return null;
  if (typeof markup !== 'object') return 'Bad Request: can\'t parse reply keyboard markup JSON object';
  if (!('inline_keyboard' in markup)) return null;
  if (!Array.isArray(markup.inline_keyboard)) return 'Bad Request: field "inline_keyboard" must be an Array';
  for (const row of markup.inline_keyboard) {
    if (!Array.isArray(row)) return 'Bad Request: field "inline_keyboard" must be an Array of Arrays';
    for (const button of row) {
      if (!button || typeof button.text !== 'string' || button.text === '') {
        return 'Bad Request: inline keyboard button text must be non-empty';
      }
      if ('callback_data' in button) {
        const size = Buffer.byteLength(String(button.callback_data), 'utf8');
        if (size < 1 || size > 64) return 'Bad Request: BUTTON_DATA_INVALID';
      }
    }
  }
  return null;
}

const ALLOWED_HTTP_METHODS = new Set(['GET', 'POST']);

function botRoute(app, method, handler) {
  app.all(`/bot:token/${method}`, (req, res) => {
    if (!ALLOWED_HTTP_METHODS.has(req.method)) {
      fail(res, 405, `Method Not Allowed: HTTP ${req.method}`);
      return;
    }
    try {
      handler(req, res, req.params.token);
    } catch (error) {
      log(`bot ${method} failed:`, error && error.stack ? error.stack : error);
      if (!res.headersSent) fail(res, 500, `Internal Server Error: ${error.message}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// long polling: hold a request until something to hand out exists or the timeout passes

const waiters = new Set();
const USER_UPDATE_EVENTS = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];
const BOT_MESSAGE_EVENTS = ['AddedBotMessage'];

function longPoll(req, res, { seconds, events, ready, answer }) {
  if (seconds <= 0 || ready()) {
    answer();
    return;
  }
  const waiter = {};
  let settled = false;
  const cleanup = () => {
    settled = true;
    clearTimeout(waiter.timer);
    events.forEach((event) => server.off(event, waiter.onEvent));
    waiters.delete(waiter);
  };
  waiter.finish = (empty = false) => {
    if (settled) return;
    cleanup();
    if (res.writableEnded || res.destroyed || req.socket.destroyed) return; // caller gone
    if (empty) ok(res, []);
    else answer();
  };
  waiter.onEvent = () => {
    if (ready()) waiter.finish();
  };
  waiter.timer = setTimeout(() => waiter.finish(), seconds * 1000);
  // The caller hung up (aiogram cancelled its poll): hand nothing out, so nothing is lost.
  res.on('close', () => {
    if (!settled) cleanup();
  });
  events.forEach((event) => server.on(event, waiter.onEvent));
  waiters.add(waiter);
}

function pendingUserUpdates(token) {
  return server.storage.userMessages.filter((update) => update.botToken === token
    && !update.isRead);
}

function clampSeconds(value) {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds, MAX_POLL_SECONDS);
}

// ---------------------------------------------------------------------------------------------
// the front

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '5mb' }));
app.use(express.urlencoded({ extended: true, limit: '5mb' }));
app.use((req, _res, next) => {
  if (VERBOSE) log(req.method, req.originalUrl.replace(/\/bot[^/]+\//, '/bot<token>/'), short(req.body, 2000));
  next();
});

// --- bot API -----------------------------------------------------------------------------------

botRoute(app, 'getMe', (req, res, token) => {
  ok(res, {
    ...botFrom(token),
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  });
});

botRoute(app, 'getUpdates', (req, res, token) => {
  const query = params(req);
  const limitValue = Number(query.limit);
  const limit = Number.isFinite(limitValue) && limitValue >= 1 ? Math.min(limitValue, 100) : 100;
  longPoll(req, res, {
    seconds: clampSeconds(query.timeout),
    events: USER_UPDATE_EVENTS,
    ready: () => pendingUserUpdates(token).length > 0,
    answer: () => {
      // At most once, as the package does: what is handed out is marked read right away.
      const updates = pendingUserUpdates(token).slice(0, limit);
      updates.forEach((update) => {
        update.isRead = true;
      });
      ok(res, updates.map((update) => TelegramServer.formatUpdate(update)));
    },
  });
});

botRoute(app, 'sendMessage', (req, res, token) => {
  const body = params(req);
  if (body.chat_id === undefined || body.chat_id === '') {
    fail(res, 400, 'Bad Request: chat_id is empty');
    return;
  }
  if (typeof body.text !== 'string' || body.text.length === 0) {
    fail(res, 400, 'Bad Request: message text is empty');
    return;
  }
  const problem = markupProblem(body.reply_markup);
  if (problem) {
    fail(res, 400, problem);
    return;
  }
  const sent = server.addBotMessage(body, token);
  const entry = findBotMessage(token, body.chat_id, sent.message_id);
  log(`bot sendMessage chat=${body.chat_id} id=${sent.message_id} text=${short(body.text)}`);
  ok(res, botMessageView(entry));
});

function editRoute(method, apply) {
  botRoute(app, method, (req, res, token) => {
    const body = params(req);
    if (body.inline_message_id !== undefined) {
      fail(res, 400, 'Bad Request: inline messages are not emulated');
      return;
    }
    const problem = markupProblem(body.reply_markup);
    if (problem) {
      fail(res, 400, problem);
      return;
    }
    const entry = findBotMessage(token, body.chat_id, body.message_id);
    if (!entry) {
      fail(res, 400, 'Bad Request: message to edit not found');
      return;
    }
    const error = apply(entry, body);
    if (error) {
      fail(res, 400, error);
      return;
    }
    entry.message.edit_date = nowSeconds();
    log(`bot ${method} chat=${body.chat_id} id=${body.message_id} ${short(body.text || body.reply_markup)}`);
    ok(res, botMessageView(entry));
  });
}

editRoute('editMessageText', (entry, body) => {
  if (typeof body.text !== 'string' || body.text.length === 0) {
    return 'Bad Request: message text is empty';
  }
  const { chat_id: _chat, message_id: _message, ...changes } = body;
  entry.message = { ...entry.message, ...changes };
  // Telegram drops the inline keyboard (and old entities) unless the edit repeats them.
  if (!('reply_markup' in body)) delete entry.message.reply_markup;
  if (!('entities' in body)) delete entry.message.entities;
  server.emit('EditedMessageText');
  return null;
});

editRoute('editMessageReplyMarkup', (entry, body) => {
  if (body.reply_markup && typeof body.reply_markup === 'object') {
    entry.message = { ...entry.message, reply_markup: body.reply_markup };
  } else {
    delete entry.message.reply_markup;
  }
  server.emit('EditedMessageReplyMarkup');
  return null;
});

botRoute(app, 'answerCallbackQuery', (req, res, token) => {
  const body = params(req);
  if (body.callback_query_id === undefined || body.callback_query_id === '') {
    fail(res, 400, 'Bad Request: query_id is empty');
    return;
  }
  callbackAnswers.push({ ...body, botToken: token, time: Date.now() });
  ok(res, true);
});

// The package's deleteMessage searches the users' updates first and matches a button press
// by the message id counter at the time of the press, so it can delete the press instead of the
// bot's message with that id. Here: the bot's own message first, then a user's message.
botRoute(app, 'deleteMessage', (req, res, token) => {
  const body = params(req);
  const chatId = Number(body.chat_id);
  const messageId = Number(body.message_id);
  if (!Number.isFinite(chatId) || !Number.isFinite(messageId)) {
    fail(res, 400, 'Bad Request: please specify `chat_id` and `message_id`');
    return;
  }
  const own = findBotMessage(token, chatId, messageId);
  const users = own ? undefined : server.storage.userMessages.find((update) => (
    update.botToken === token
    && update.message && update.message.chat
    && String(update.message.chat.id) === String(chatId)
    && update.messageId === messageId
  ));
  if (own) {
    server.removeBotMessage(own.updateId);
  } else if (users) {
    server.removeUserMessage(users.updateId);
  } else {
    fail(res, 400, 'Bad Request: message to delete not found');
    return;
  }
  log(`bot deleteMessage chat=${chatId} id=${messageId}`);
  ok(res, true);
});

app.all('/bot:token/:method', (req, res, next) => {
  const method = req.params.method.toLowerCase();
  if (PACKAGE_METHODS.has(method)) {
    next(); // the package answers these itself
    return;
  }
  if (NOOP_TRUE_METHODS.has(method)) {
    log(`bot ${req.params.method} (not emulated, answered true) ${short(params(req))}`);
    ok(res, true);
    return;
  }
  log(`bot ${req.params.method} is NOT EMULATED: answered 404`);
  fail(res, 404, `Not Found: method ${req.params.method} is not emulated by telegram-test-api`);
});

// --- client API --------------------------------------------------------------------------------

function clientRoute(kind, add) {
  return async (req, res) => {
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    if (!body.botToken) {
      fail(res, 400, 'Bad Request: the update needs a `botToken` field');
      return;
    }
    if (kind === 'callback') {
      if (!body.from || !body.message || !body.message.chat || body.message.message_id === undefined) {
        fail(res, 400, 'Bad Request: a callback needs `from` and `message` {message_id, chat}');
        return;
      }
      rememberChat(body.message.chat);
    } else {
      if (!body.from || !body.chat || body.chat.id === undefined || typeof body.text !== 'string') {
        fail(res, 400, 'Bad Request: a message needs `from`, `chat` {id, type} and `text`');
        return;
      }
      if (kind === 'command' && !(Array.isArray(body.entities) && body.entities.some(
        (entity) => entity && entity.type === 'bot_command',
      ))) {
        fail(res, 400, 'Bad Request: a command needs a `bot_command` entity');
        return;
      }
      if (body.date === undefined) body.date = nowSeconds();
      rememberChat(body.chat);
    }
    const updateId = server.updateId;
    const messageId = server.messageId;
    const callbackId = server.callbackId;
    try {
      await add(body);
    } catch (error) {
      log(`client ${kind} failed:`, error && error.stack ? error.stack : error);
      if (!res.headersSent) fail(res, 500, `Internal Server Error: ${error.message}`);
      return;
    }
    if (kind === 'callback') {
      log(`user ${body.from.id} callback chat=${body.message.chat.id} msg=${body.message.message_id} data=${short(body.data)}`);
      ok(res, { update_id: updateId, callback_query_id: String(callbackId) });
    } else {
      log(`user ${body.from.id} ${kind} chat=${body.chat.id} id=${messageId} text=${short(body.text)}`);
      ok(res, { update_id: updateId, message_id: messageId });
    }
  };
}

app.post('/sendMessage', clientRoute('message', (body) => server.addUserMessage(body)));
app.post('/sendCommand', clientRoute('command', (body) => server.addUserCommand(body)));
app.post('/sendCallback', clientRoute('callback', (body) => server.addUserCallback(body)));

// The package's client getUpdates (raw stored bot messages of one chat, each handed out once),
// plus an optional `timeout` in seconds to wait for the next one.
app.post('/getUpdates', (req, res) => {
  const body = req.body || {};
  const unread = () => server.storage.botMessages.filter((entry) => (
    entry.botToken === body.token
    && String(entry.message.chat_id) === String(body.chatId)
    && !entry.isRead
  ));
  longPoll(req, res, {
    seconds: clampSeconds(body.timeout),
    events: BOT_MESSAGE_EVENTS,
    ready: () => unread().length > 0,
    answer: () => {
      const messages = unread();
      messages.forEach((entry) => {
        entry.isRead = true;
      });
      ok(res, messages);
    },
  });
});

// Extension: what the bot answered to callback queries (answerCallbackQuery), oldest first.
app.post('/getCallbackAnswers', (req, res) => {
  const token = (req.body || {}).token;
  ok(res, callbackAnswers.filter((answer) => answer.botToken === token));
});

// Everything else (client getUpdatesHistory, setWebhook, deleteWebhook, 404s): the package.
app.use(server.webServer);

// Errors in the front (e.g. a body that is no JSON): answer, never crash.
// eslint-disable-next-line no-unused-vars
app.use((error, req, res, _next) => {
  log(`request ${req.method} ${req.originalUrl} failed:`, error && error.message);
  if (!res.headersSent) fail(res, error.status || error.statusCode || 500, `Bad Request: ${error.message}`);
});

// ---------------------------------------------------------------------------------------------
// process life

process.on('unhandledRejection', (reason) => {
  log('unhandled rejection (emulator keeps running):', reason && reason.stack ? reason.stack : reason);
});
process.on('uncaughtException', (error) => {
  log('uncaught exception (emulator keeps running):', error && error.stack ? error.stack : error);
});

let stopping = false;
async function shutdown(reason) {
  if (stopping) return;
  stopping = true;
  log(`${reason}: shutting down`);
  [...waiters].forEach((waiter) => waiter.finish(true));
  const hardExit = setTimeout(() => process.exit(0), 3000);
  hardExit.unref();
  try {
    await server.stop();
  } catch (error) {
    log('stop failed:', error);
  }
  process.exit(0);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (process.env.EMULATOR_EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin closed'));
  process.stdin.resume();
}

async function main() {
  const httpServer = http.createServer(app);
  // Longer than any client's keep-alive, so a reused connection is never closed under it.
  httpServer.keepAliveTimeout = 120 * 1000;
  httpServer.headersTimeout = 121 * 1000;
  server.server = addShutdown(httpServer);
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(PORT, HOST, resolve);
  });
  const { port } = httpServer.address();
  server.config.port = port;
  server.config.apiURL = `http://${HOST}:${port}`;
  server.started = true;
  server.cleanUpDaemon();
  log(`telegram-test-api listening on ${server.config.apiURL} (storeTimeout ${STORE_TIMEOUT}s)`);
  process.stdout.write(`READY ${port}\n`);
}

main().catch((error) => {
  log('could not start:', error && error.stack ? error.stack : error);
  process.exit(1);
});
