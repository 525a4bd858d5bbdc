// Resumable SSE streams for 2025 HTTP sessions (SEP-1699). Every message a session's streams carry
// is kept for a while under an event id, so a client whose stream broke mid-call (a dropped
// connection, a proxy timeout) reconnects with GET and Last-Event-ID and receives what it missed,
// the call's result among it. One store per session, gone with it; bounded, oldest first, so a
// session that streams a lot can resume only from its recent messages.

import type { EventStore, JSONRPCMessage } from "@modelcontextprotocol/server";

interface Stored {
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

export class SessionEventStore implements EventStore {
  /** In the order stored (a Map keeps insertion order). */
  private readonly events = new Map<string, Stored>();
  private bytes = 0;
  private next = 0;

  constructor(
    private readonly maxEvents = 1000,
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = String(++this.next);
    const bytes = JSON.stringify(message).length;
    this.events.set(id, { streamId, message, bytes });
    this.bytes += bytes;
    // Oldest first; the event just stored stays, so its stream can resume from it even if it alone is over the limit.
    for (const [old, event] of this.events) {
      if (old === id || (this.events.size <= this.maxEvents && this.bytes <= this.maxBytes)) break;
      this.events.delete(old);
      this.bytes -= event.bytes;
    }
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const last = this.events.get(lastEventId);
    if (!last) throw new Error(`event ${lastEventId} is no longer stored; the stream cannot be resumed`);
    let after = false;
    for (const [id, event] of [...this.events]) {
      if (id === lastEventId) after = true;
      else if (after && event.streamId === last.streamId) await send(id, event.message);
    }
    return last.streamId;
  }
}
