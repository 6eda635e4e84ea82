// An idiomatic grammY bot running the portrait survey of scenarios/portrait.yaml
// (consent, name, age, city, family status, interests, phone) with the
// conversations plugin and its state in Redis: the baseline that chathub's
// inbound benchmark is compared with (docs/BENCHMARKS.md). It keeps no CRM
// record: it only asks, validates, re-asks and replies.
//
// Environment: TELEGRAM_TOKEN, TELEGRAM_API_URL (the Bot API root, e.g. the
// fake server of BenchmarkInboundExternalBot), REDIS_URL (default
// redis://127.0.0.1:6379/0), REDIS_PREFIX (key prefix), GRAMMY_RUNNER=1 to
// handle updates concurrently with @grammyjs/runner (sequentialized per
// chat) instead of bot.start()'s one update at a time.
import { Bot, InlineKeyboard, Keyboard } from "grammy";
import { conversations, createConversation } from "@grammyjs/conversations";
import { RedisAdapter } from "@grammyjs/storage-redis";
import { run, sequentialize } from "@grammyjs/runner";
import { Redis } from "ioredis";

const token = process.env.TELEGRAM_TOKEN;
if (!token) {
  console.error("TELEGRAM_TOKEN is required");
  process.exit(2);
}
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0", {
  keyPrefix: (process.env.REDIS_PREFIX ?? "grammy") + ":",
});
const bot = new Bot(token, { client: { apiRoot: process.env.TELEGRAM_API_URL ?? "https://api.telegram.org" } });

const choices = (opts) => {
  const kb = new InlineKeyboard();
  opts.forEach(([text, value]) => kb.text(text, value).row());
  return kb;
};
// pick returns the option a text answer or a button press names: its
// number, its caption or its value.
const pick = (ctx, opts) => {
  const v = (ctx.callbackQuery?.data ?? ctx.message?.text ?? "").trim();
  const n = Number.parseInt(v, 10);
  if (String(n) === v && n >= 1 && n <= opts.length) return opts[n - 1][1];
  const o = opts.find(([text, value]) => value === v || text.toLowerCase() === v.toLowerCase());
  return o?.[1];
};
const answer = (conversation) => conversation.waitFor(["message:text", "message:contact", "callback_query:data"]);

async function ask(conversation, ctx, text, extra, accept, error) {
  await ctx.reply(text, extra);
  for (;;) {
    const c = await answer(conversation);
    if (c.callbackQuery) await c.answerCallbackQuery();
    const v = accept(c);
    if (v !== undefined) return [c, v];
    await c.reply(error, extra);
  }
}

const consent = [["Да, согласен", "yes"], ["Нет", "no"]];
const cities = [["Москва", "Москва"], ["Санкт-Петербург", "Санкт-Петербург"], ["Самара", "Самара"], ["Екатеринбург", "Екатеринбург"]];
const family = [["Не женат / не замужем", "single"], ["В браке", "married"], ["В разводе", "divorced"]];
const interests = [["Фитнес", "fitness"], ["Путешествия", "travel"], ["Образование", "education"], ["Красота", "beauty"], ["Дети", "kids"]];
const nameRe = /^[\p{L}][\p{L} .'-]*$/u;

async function portrait(conversation, ctx) {
  const profile = {};
  let [c, v] = await ask(conversation, ctx,
    "Здравствуйте! Ответьте на 6 коротких вопросов — и получите скидку 10% на первый заказ.\n" +
    "Мы спрашиваем, чтобы присылать только то, что вам действительно интересно, и не чаще раза в неделю.\n" +
    "Согласны на обработку персональных данных и получение рассылок? Отписаться можно в любой момент командой /stop.",
    { reply_markup: choices(consent) }, (c) => pick(c, consent), "Выберите вариант кнопкой или напишите его номер.");
  if (v === "no") {
    await c.reply("Хорошо, ничего не записываем. Если передумаете — отправьте /start.");
    return;
  }
  [c, profile.name] = await ask(conversation, c, "Как к вам обращаться?", {}, (c) => {
    const t = c.message?.text?.trim() ?? "";
    return t.length >= 2 && t.length <= 60 && nameRe.test(t) ? t : undefined;
  }, "Напишите имя буквами, например: Анна.");
  [c, profile.age] = await ask(conversation, c, `${profile.name}, сколько вам лет? Некоторые предложения мы можем делать только с 18 лет.`, {}, (c) => {
    const n = Number(c.message?.text?.trim());
    return Number.isInteger(n) && n >= 14 && n <= 100 ? n : undefined;
  }, "Напишите возраст числом от 14 до 100.");
  [c, profile.city] = await ask(conversation, c, "В каком городе вы живёте? Выберите или напишите свой.",
    { reply_markup: choices(cities) }, (c) => pick(c, cities) ?? c.message?.text?.trim(), "Напишите город.");
  [c, profile.family] = await ask(conversation, c, "Ваше семейное положение?", { reply_markup: choices(family) },
    (c) => pick(c, family), "Выберите вариант кнопкой или напишите его номер.");
  [c, profile.interests] = await ask(conversation, c, "Что вам интересно? Отметьте всё подходящее и нажмите «Готово».",
    { reply_markup: choices(interests) }, (c) => {
      const parts = (c.message?.text ?? "").split(/[,\s]+/).filter(Boolean);
      const got = parts.map((p) => pick({ message: { text: p } }, interests));
      return got.length > 0 && got.every(Boolean) ? got : undefined;
    }, "Выберите варианты кнопками или напишите их номера через запятую.");
  [c, profile.phone] = await ask(conversation, c, "Оставьте телефон, чтобы мы могли связаться с вами.",
    { reply_markup: new Keyboard().requestContact("Поделиться номером").oneTime().resized() }, (c) => {
      const p = c.message?.contact?.phone_number ?? c.message?.text?.replace(/[\s()-]/g, "");
      return p && /^\+?\d{10,15}$/.test(p) ? p : undefined;
    }, "Напишите номер в формате +79991234567 или нажмите кнопку.");
  await c.reply(`Спасибо, ${profile.name}! Мы записали ваши ответы. Ваша скидка 10% на первый заказ уже ждёт вас.`,
    { reply_markup: { remove_keyboard: true } });
}

const chatKey = (ctx) => ctx.chat?.id.toString();
if (process.env.GRAMMY_RUNNER === "1") bot.use(sequentialize(chatKey));
bot.use(conversations({ storage: { type: "key", version: 1, adapter: new RedisAdapter({ instance: redis, ttl: 86400 }) } }));
bot.use(createConversation(portrait, "portrait"));
bot.command("start", (ctx) => ctx.conversation.enter("portrait"));
bot.catch((err) => console.error("update failed:", err.error?.message ?? err.message));

const stop = () => (handle ? handle.stop() : bot.stop());
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
let handle;
if (process.env.GRAMMY_RUNNER === "1") {
  handle = run(bot);
} else {
  bot.start({ drop_pending_updates: false });
}
