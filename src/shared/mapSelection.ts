/**
 * The map's side of the selection protocol. The document in the host owns the
 * selected frame; a map shows its own choices at once and numbers them
 * (`req`). The host echoes every change of the document's selection with its
 * order (`seq`) and the last of the map's choices it had taken (`ack`); the
 * map applies a change only when the host had seen all of its choices, so a
 * message sent before the map's latest choice reached the host never pulls
 * the map back, and the host's last word is always the map's.
 */
export class MapSelection {
  private localReq = 0;
  private hostSeq = 0;

  /** Numbers a choice made on the map, to send with it. */
  choose(): number {
    return ++this.localReq;
  }

  /** Whether to show the document's selection from a host message. */
  accept(msg: { seq: number; ack: number }): boolean {
    if (msg.ack < this.localReq || msg.seq <= this.hostSeq) return false;
    this.hostSeq = msg.seq;
    return true;
  }
}
