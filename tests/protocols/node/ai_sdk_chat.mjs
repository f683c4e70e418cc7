// Reads our UI message stream with the real `ai` package, as `useChat` does: its
// DefaultChatTransport posts the chat (or reconnects to it) and parses the parts against the
// package's own chunk schema; readUIMessageStream rebuilds the assistant message.
//   node ai_sdk_chat.mjs send <api> <chatId> <question> [model]   -> {message, chunks, errors}
//   node ai_sdk_chat.mjs resume <api> <chatId> [cookie]           -> {resumed: false} on 204
// (`cookie`: what a browser would send back, the `storestream_chat` the POST set)
import { DefaultChatTransport, readUIMessageStream } from "ai";

const [mode, api, chatId, question, model] = process.argv.slice(2);
const cookie = mode === "resume" ? question : undefined;
const transport = new DefaultChatTransport({ api, body: model ? { model } : {}, headers: cookie ? { cookie } : {} });
const signal = AbortSignal.timeout(60000);

async function read(stream) {
  const [forReader, forLog] = stream.tee();
  const chunks = [];
  const logged = (async () => {
    for await (const chunk of forLog) chunks.push(chunk.type);
  })();
  const errors = [];
  let message = null;
  for await (const snapshot of readUIMessageStream({ stream: forReader, onError: (e) => errors.push(String(e)) })) {
    message = snapshot;
  }
  await logged;
  return { message, chunks, errors };
}

let out;
if (mode === "send") {
  const messages = [{ id: "u1", role: "user", parts: [{ type: "text", text: question }] }];
  const stream = await transport.sendMessages({
    chatId, messages, trigger: "submit-message", messageId: undefined, abortSignal: signal,
  });
  out = await read(stream);
} else {
  const stream = await transport.reconnectToStream({ chatId, abortSignal: signal });
  out = stream === null ? { resumed: false } : { resumed: true, ...(await read(stream)) };
}
process.stdout.write(JSON.stringify(out));
