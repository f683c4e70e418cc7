// The sales agent in a React app, through the Vercel AI SDK's `useChat` (ai 6, @ai-sdk/react 3):
// the answer's text, the agent's tool calls, and our `data-*` parts (product cards,
// suggestions) rebuilt from POST /api/ai-sdk/chat's UI message stream (docs/protocols.md).
//
//   npm install @ai-sdk/react@3.0.328 ai@6.0.325 react@19 react-dom@19
//   <StoreChat />  in a page served from the store's origin (or proxy /api to it)
//
// `ai` at the version that @ai-sdk/react pins: with a second copy of `ai`, TypeScript no longer
// infers the data parts' types from StoreMessage. Type-checked with TypeScript 5.8 (strict).
"use client";

import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport, getToolName, isToolUIPart, type UIMessage } from "ai";
import { useState } from "react";

type ProductCard = {
  sku: string; title: string; brand?: string; price?: number; currency?: string;
  image_url?: string; in_stock?: boolean; rating?: number;
};

// Our `results` payloads, as `data-<type>` parts (kept in the message), and the transient
// parts (`data-audio`, `data-progress`, `data-error`: to onData only).
type StoreData = {
  product_cards: { products: ProductCard[]; total: number };
  suggestions: { suggestions: string[] };
  intent: { intent: string };
  market_intelligence: Record<string, unknown>;
  comparison: Record<string, unknown>;
  stock: Record<string, unknown>;
  audio: { chunk: string; format: string; seq: number; text: string };
  progress: { step: string; message: string };
  error: { code: string; message: string };
};
type StoreMessage = UIMessage<{ sessionId?: string; conversationId?: string }, StoreData>;

export default function StoreChat({ api = "/api/ai-sdk/chat" }: { api?: string }) {
  const [input, setInput] = useState("");
  const [activity, setActivity] = useState("");
  const { messages, sendMessage, status, stop, error } = useChat<StoreMessage>({
    transport: new DefaultChatTransport({ api }), // the chat's id is the agent's session
    resume: true, // a reload follows the turn still running (GET /api/ai-sdk/chat/{id}/stream)
    onData: (part) => {
      if (part.type === "data-progress") setActivity(part.data.message);
      if (part.type === "data-audio") void new Audio(`data:audio/${part.data.format};base64,${part.data.chunk}`).play();
    },
    onFinish: () => setActivity(""),
  });
  const busy = status === "submitted" || status === "streaming";
  const ask = (text: string) => { if (text.trim()) void sendMessage({ text }); };

  return (
    <section className="store-chat">
      {messages.map((message) => (
        <article key={message.id} data-role={message.role}>
          {message.parts.map((part, i) => {
            if (part.type === "text") return <p key={i}>{part.text}</p>;
            if (isToolUIPart(part)) {
              // the agent's own tools, already run on the server: input, then output
              return <small key={i} className="tool">{getToolName(part)} {JSON.stringify(part.input)}
                {part.state === "output-available" ? " ✓" : " …"}</small>;
            }
            if (part.type === "data-product_cards") {
              return <ul key={i} className="cards">{part.data.products.map((card) => (
                <li key={card.sku}>
                  {card.image_url && <img src={card.image_url} alt="" width={120} />}
                  <strong>{card.title}</strong> {card.brand}
                  <span>{card.price?.toLocaleString()} {card.currency}</span>
                  {card.in_stock === false && <em>out of stock</em>}
                </li>))}
              </ul>;
            }
            if (part.type === "data-suggestions") {
              return <nav key={i}>{part.data.suggestions.map((s) => (
                <button key={s} disabled={busy} onClick={() => ask(s)}>{s}</button>))}</nav>;
            }
            if (part.type === "source-document") return <cite key={i}>{part.title}</cite>;
            return null; // data-intent, data-market_intelligence...: there if a page wants them
          })}
        </article>
      ))}
      {busy && <p role="status">{activity || "…"}</p>}
      {error && <p role="alert">{error.message}</p>}
      <form onSubmit={(e) => { e.preventDefault(); ask(input); setInput(""); }}>
        <input value={input} onChange={(e) => setInput(e.target.value)} placeholder="Ask the store" />
        {busy ? <button type="button" onClick={() => stop()}>Stop</button> : <button type="submit">Send</button>}
      </form>
    </section>
  );
}
