/**
 * One memory budget shared by the chunk readers of connections that have not
 * started publishing. Each connection holds an account; bytes are reserved
 * before they are buffered and released when the message completes or the
 * connection goes. When the budget is full, the account holding the most is
 * evicted (its connection closed) if it holds more than the one asking would
 * after the request; otherwise the one asking is refused. So many small,
 * honest connect commands still fit while a few connections hog the budget.
 * Pure: no I/O.
 */

/** What a chunk reader needs: reserve before buffering, release when done. */
export interface BufferReservation {
  /** False: the bytes may not be buffered (the caller fails its connection). */
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

export class SharedBufferBudget {
  private used = 0;
  private readonly accounts = new Set<BudgetAccount>();

  constructor(readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** A new account; `evict` must close its connection (the account is closed for it either way). */
  open(evict: () => void): BudgetAccount {
    const account = new BudgetAccount(this, evict);
    this.accounts.add(account);
    return account;
  }

  /** @internal */
  reserve(account: BudgetAccount, bytes: number): boolean {
    if (!this.accounts.has(account)) return false;
    while (this.used + bytes > this.limitBytes) {
      let hog: BudgetAccount | null = null;
      for (const a of this.accounts) if (a !== account && (hog === null || a.held > hog.held)) hog = a;
      if (hog === null || hog.held <= account.held + bytes) return false;
      this.close(hog);
      hog.evict();
    }
    this.used += bytes;
    account.held += bytes;
    return true;
  }

  /** @internal */
  release(account: BudgetAccount, bytes: number): void {
    if (!this.accounts.has(account)) return;
    const n = Math.min(bytes, account.held);
    account.held -= n;
    this.used -= n;
  }

  /** @internal */
  close(account: BudgetAccount): void {
    if (!this.accounts.delete(account)) return;
    this.used -= account.held;
    account.held = 0;
  }
}

export class BudgetAccount implements BufferReservation {
  /** Bytes this account holds of the shared budget. */
  held = 0;

  constructor(
    private readonly budget: SharedBufferBudget,
    readonly evict: () => void,
  ) {}

  reserve(bytes: number): boolean {
    return this.budget.reserve(this, bytes);
  }

  release(bytes: number): void {
    this.budget.release(this, bytes);
  }

  /** Gives back everything held; later reserves fail. Idempotent. */
  close(): void {
    this.budget.close(this);
  }
}
