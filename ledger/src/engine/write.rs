//! The write session: the caller decides and appends; the engine projects, reacts and
//! delivers what was deferred, in one SQLite transaction per store and commit.

use super::*;

/// A write session: the lock is held until it is dropped.
pub struct WriteGuard<'l> {
    pub(super) ledger: &'l mut Ledger,
    pub(super) _lock: File,
    pub(super) now: DateTime<Utc>,
    pub(super) rng: StdRng,
    /// The last id this session made (0 before the first): ids increase within a session.
    pub(super) last_id: u128,
    pub(super) appended: Vec<Event>,
    /// Where, in `appended`, the events begin that some reactor may not have handled yet:
    /// reaction rounds read them from memory rather than decoding the log again. `None`
    /// when they are not in memory (they are then read from the log).
    pub(super) unreacted_from: Option<usize>,
    /// Whether this session already asked the reactors for deferred deliveries.
    pub(super) retried: bool,
    /// The seq of the last event of the caller's own batches, once they are in the log and
    /// until their transaction ends: a failure then is [`LedgerError::Unapplied`], once
    /// they are durable ([`WriteGuard::in_transaction`] syncs them first, and a sync that
    /// fails and cuts them back makes it an error of its own).
    pub(super) command_last_seq: Option<u64>,
    /// Whether the open transaction projected a batch of at least [`PARALLEL_EVENTS`]: its
    /// stores are then projected, committed and trimmed on one thread each.
    pub(super) wide: bool,
}

impl<'l> WriteGuard<'l> {
    /// A session on `ledger` holding `lock`, deciding at `now` with `rng`; nothing appended
    /// yet.
    pub(super) fn new(ledger: &'l mut Ledger, lock: File, now: DateTime<Utc>, rng: StdRng) -> WriteGuard<'l> {
        WriteGuard {
            ledger,
            _lock: lock,
            now,
            rng,
            last_id: 0,
            appended: Vec::new(),
            unreacted_from: None,
            retried: false,
            command_last_seq: None,
            wide: false,
        }
    }
}

impl WriteGuard<'_> {
    /// The store called `name`, as this session has it (its own writes included).
    pub fn store(&self, name: &str) -> &Connection {
        self.ledger.store(name)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The position after the last event (what the next append continues from).
    pub fn head(&self) -> Result<Position, LedgerError> {
        self.ledger.head()
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Runs a decision with the injected clock and random source (what it reads of the
    /// stores, the caller reads first with [`WriteGuard::store`]).
    pub fn decide<T>(&mut self, f: impl FnOnce(&mut Context<'_>) -> T) -> T {
        f(&mut self.context())
    }

    pub fn context(&mut self) -> Context<'_> {
        // a command decides from the stores and makes no side effect outside the log
        Context {
            now: self.now,
            rng: &mut self.rng,
            last_id: Some(&mut self.last_id),
            session: None,
        }
    }

    /// A fresh UUIDv7 at this session's instant, greater than the session's ids before it.
    pub fn new_id(&mut self) -> Uuid {
        new_id(self.now, &mut self.rng, Some(&mut self.last_id))
    }

    /// The committed events after `from` (a position this session saw, e.g. its
    /// [`WriteGuard::head`] before an append), read from the log: this session's events and
    /// whatever other writers of a shared log appended between them (reactions another host
    /// made for this session's events).
    pub fn read_from(&self, from: Position) -> Result<Vec<Event>, LedgerError> {
        self.ledger.read_from(from)?.collect()
    }

    /// What this session recovered before the caller's decision.
    pub fn recovery(&self) -> &Recovery {
        &self.ledger.last_recovery
    }

    /// Every event appended in this session: recovered reactions, the caller's batches and
    /// the reactions they caused, in log order.
    pub fn appended(&self) -> &[Event] {
        &self.appended
    }

    /// Hands over the events appended so far and forgets them, so that a long session
    /// (an import) does not keep every event in memory.
    pub fn take_appended(&mut self) -> Vec<Event> {
        self.unreacted_from = None;
        std::mem::take(&mut self.appended)
    }

    /// Appends one command's events as an atomic batch, projects them, runs every reaction
    /// to completion, and syncs the log once. Returns the batch as written.
    pub fn append(&mut self, batch: Vec<NewEvent>) -> Result<Vec<Event>, LedgerError> {
        self.append_batches(vec![batch])
    }

    /// Appends several batches with one write and one fsync (group commit). Each batch is
    /// atomic on its own.
    pub fn append_batches(&mut self, batches: Vec<Vec<NewEvent>>) -> Result<Vec<Event>, LedgerError> {
        let written = self.commit_and_react(batches)?;
        // copied only now: during the reaction rounds the batch lives in `appended` alone
        Ok(self.appended[written].to_vec())
    }

    /// Appends many batches in group commits of `chunk` batches (one write each, then their
    /// reactions, then one fsync), handing each commit's events (with their reactions, and
    /// for the first one whatever the session recovered) to `after` and forgetting them, so
    /// that memory does not grow with the number of batches. On an error, the commits before
    /// are durable and reacted to; `appended()` holds what the failing one got written.
    pub fn append_in_chunks<E: From<LedgerError>>(
        &mut self,
        batches: impl IntoIterator<Item = Vec<NewEvent>>,
        chunk: usize,
        mut after: impl FnMut(&Self, Vec<Event>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut batches = batches.into_iter().peekable();
        while batches.peek().is_some() {
            self.commit_and_react(batches.by_ref().take(chunk.max(1)).collect())?;
            let events = self.take_appended();
            after(self, events)?;
        }
        Ok(())
    }

    /// Stages, commits and reacts to `batches`; returns where they are in `appended`.
    /// The batches and every reaction round they cause are projected in one SQLite
    /// transaction: each round is written to the log before the next one is decided, the
    /// log is synced once, and SQLite commits once at the end. A crash in between loses
    /// nothing acknowledged: the log is the truth, the next writer syncs what it finds
    /// written, catches the projections up, and the reactors' look-ahead finds the
    /// reactions already appended. One commit instead of one per
    /// round means the pages a chunk touches go through the WAL once.
    fn commit_and_react(
        &mut self,
        batches: Vec<Vec<NewEvent>>,
    ) -> Result<std::ops::Range<usize>, LedgerError> {
        let done = self.in_transaction(|g| {
            let head = g.ledger.head()?;
            let mut staging = Staging::new(head);
            for batch in batches.into_iter().filter(|b| !b.is_empty()) {
                staging.stage(batch, None, &mut g.context());
            }
            let written = g.project_and_append(staging)?;
            // from here on the caller's batches are in the log: whatever fails now, the
            // command happened once they are synced (in_transaction syncs, and says so; a
            // failed sync takes them back)
            g.command_last_seq = g.appended[written.clone()].last().map(|e| e.seq);
            let settled = g.react_or_yield()?;
            Ok((written, settled))
        });
        let result = match done {
            Ok((written, true)) => Ok(written),
            // another host appended while the reactions were decided: they are decided
            // again after its events (the command itself is in the log)
            Ok((written, false)) => self.settle_shared(true).map(|()| written),
            Err(e) => Err(e),
        };
        self.command_last_seq = None;
        result
    }

    /// Runs the reaction rounds and (once per session) the deferred deliveries. On a shared
    /// log, another writer may append between two rounds: the rounds this session could not
    /// append are undone (a savepoint in every store) and `false` is returned, for
    /// [`WriteGuard::settle_shared`] to decide them again after the other writer's events.
    fn react_or_yield(&mut self) -> Result<bool, LedgerError> {
        let shared = self.ledger.is_shared();
        if shared {
            for s in &self.ledger.stores {
                s.db.execute_batch("SAVEPOINT reactions")
                    .map_err(|e| db_err(&s.path, e))?;
            }
        }
        // deferred deliveries are tried by commands that write, once per session: a command
        // that is refused (it appends nothing) writes nothing at all
        let result = self.react_and_retry(true);
        if !shared {
            return result.map(|()| true);
        }
        let undo = matches!(&result, Err(e) if e.is_conflict());
        for s in &self.ledger.stores {
            let sql = if undo {
                "ROLLBACK TO reactions; RELEASE reactions"
            } else {
                "RELEASE reactions"
            };
            if let Err(e) = s.db.execute_batch(sql)
                && result.is_ok()
            {
                return Err(db_err(&s.path, e));
            }
        }
        if undo {
            self.retried = false;
            return Ok(false);
        }
        result.map(|()| true)
    }

    /// Runs every reaction still pending (an interrupted command's, a rebuild's), before the
    /// session decides anything; on a shared log, decided again after another host's
    /// events when it appended first.
    pub(super) fn finish_pending(&mut self) -> Result<(), LedgerError> {
        // a worker ([`Options::worker`]) also delivers what its reactors deferred, once per
        // batch: commands never run its contexts' reactors, so they never retry them either
        let worker = self.ledger.opts.worker.is_some();
        match self.in_transaction(|g| g.react_and_retry(worker)) {
            Err(e) if e.is_conflict() => {
                self.retried = false;
                self.settle_shared(worker)
            }
            result => result,
        }
    }

    /// Runs the pending reaction rounds and, when `retries` and not yet done in this
    /// session, the deferred deliveries, inside the caller's transaction.
    fn react_and_retry(&mut self, retries: bool) -> Result<(), LedgerError> {
        self.run_reactions()?;
        if retries && !self.retried {
            self.retried = true;
            self.run_retries()?;
        }
        Ok(())
    }

    /// After another writer appended to the shared log first (a conflict): copies its
    /// events, catches the stores up, and decides the pending reactions (and, when
    /// `retries`, the deferred deliveries) again, for at most [`SHARED_BUDGET`], a little
    /// longer after each conflict. The causation look-ahead keeps a reaction that the other
    /// writer made for our events from being made twice.
    pub(super) fn settle_shared(&mut self, retries: bool) -> Result<(), LedgerError> {
        let started = std::time::Instant::now();
        for attempt in 1.. {
            self.ledger.sync_replica()?;
            self.ledger.catch_up_projections()?;
            self.unreacted_from = None;
            // the other writer's events may be later than this session's instant: what it
            // decides now is never earlier than the last event (time never goes back)
            if let Some(last) = self.ledger.head()?.at {
                self.now = self.now.max(last);
            }
            match self.in_transaction(|g| g.react_and_retry(retries)) {
                Err(e) if e.is_conflict() && started.elapsed() < SHARED_BUDGET => {
                    self.retried = false;
                    backoff(attempt);
                }
                result => return result,
            }
        }
        unreachable!("the loop returns")
    }

    /// Runs `f` inside one SQLite transaction per store (every statement on a store's
    /// connection joins its transaction) and commits the first store, then the others (one
    /// after the other, or at once on one thread each when the session projected a large
    /// batch): each store's changes and checkpoints are atomic, the stores together are
    /// not. A crash between two commits (crash point `commit.partial`) leaves the stores
    /// not yet committed at their old checkpoints; the next session catches them up from
    /// the log before anything is decided. On an error every open transaction is rolled back, and whatever `f` already
    /// appended to the log is synced (or cut back when that fails) and projected again, so
    /// that the stores never stay behind the log for the rest of this session.
    pub(super) fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let start = self.appended.len();
        let result: Result<T, LedgerError> = (|| {
            for s in &self.ledger.stores {
                s.db.execute_batch(BEGIN_WRITE).map_err(|e| db_err(&s.path, e))?;
            }
            let v = f(self)?;
            // the session's appends are made durable once, before any store commits them
            // (a store must never be ahead of the durable log)
            self.ledger.sync_log()?;
            let (first, rest) = self.ledger.stores.split_first_mut().expect("a ledger has stores");
            let command = self.command_last_seq.is_some();
            let last_path = rest.last().map(|s| s.path.clone());
            let commit = |db: &Connection, path: &Path, _: &[Box<dyn Projection>]| {
                // a later store's commit fails while the others (in a wide session, on their
                // own threads) commit
                if command && last_path.as_deref() == Some(path) {
                    crate::fail_point("commit.last", "commit", path)?;
                }
                db.execute_batch("COMMIT").map_err(|e| db_err(path, e))
            };
            if command {
                crate::fail_point("commit", "commit", &first.path)?;
            }
            // the first store, then the others (at once when the session is wide): a crash
            // in between leaves them behind their checkpoints, each caught up on its own
            commit(&first.db, &first.path, &[])?;
            if !rest.is_empty() {
                crate::crash_point("commit.partial");
            }
            each_store(rest, self.wide, commit)?;
            Ok(v)
        })();
        // whether what the transaction appended (what is left of it in `appended`) is durable
        let mut durable = result.is_ok();
        // once the caller's batches are in the log, a failure must say the command happened,
        // or a caller who retries would do it twice (docs/guarantees.md P10)
        let result = match result {
            Ok(v) => Ok(v),
            Err(e) => {
                // what this session wrote is made durable before anything depends on it
                // (the catch-up below commits it to the stores; the command may be said to
                // be recorded), or cut back when that fails: then only what is left counts
                let synced = self.ledger.sync_log();
                let kept_seq = e
                    .kept_seq()
                    .or_else(|| synced.as_ref().err().and_then(LedgerError::kept_seq));
                if let Some(kept) = kept_seq {
                    self.appended.retain(|ev| ev.seq <= kept);
                    self.unreacted_from = None;
                }
                durable = synced.is_ok() || kept_seq.is_some();
                match self.command_last_seq {
                    Some(last_seq) if kept_seq.is_none_or(|kept| last_seq <= kept) => {
                        Err(LedgerError::Unapplied {
                            last_seq,
                            source: Box::new(e),
                        })
                    }
                    Some(_) => Err(synced.err().unwrap_or(e)),
                    None => Err(e),
                }
            }
        };
        if result.is_ok() {
            let _ = each_store(&mut self.ledger.stores, self.wide, |db, path, _| {
                trim_wal(db, path);
                Ok(())
            });
        }
        self.wide = false;
        if result.is_err() {
            for s in &self.ledger.stores {
                if !s.db.is_autocommit() {
                    let _ = s.db.execute_batch("ROLLBACK");
                }
            }
            // best effort: if this fails too, the next writer catches up from the log
            let _ = self.ledger.catch_up_projections();
        }
        if durable
            && let Some(OnDurable(tell)) = self.ledger.opts.on_durable.clone()
            && let Some(events) = self.appended.get(start..)
            && !events.is_empty()
        {
            tell(self.ledger, events);
        }
        result
    }

    /// Projects the staged events into every store and writes them to the log (synced by
    /// the session), inside the caller's transactions. Returns where they are in `appended`.
    fn project_and_append(&mut self, staging: Staging) -> Result<std::ops::Range<usize>, LedgerError> {
        let start = self.appended.len();
        if staging.events.is_empty() {
            return Ok(start..start);
        }
        let l = &mut *self.ledger;
        self.wide |= staging.events.len() >= parallel_events();
        each_store(&mut l.stores, self.wide, |db, path, projections| {
            for ev in &staging.events {
                for p in projections {
                    apply(p.as_ref(), db, ev)?;
                }
            }
            set_projection_positions(db, projections, &staging.next).map_err(|e| db_err(path, e))
        })?;
        crate::crash_point("project");
        if let Err(failure) = l.append_log(staging.start, &staging.bytes, &staging.batch_ends) {
            let AppendFailure { error: e, stored } = *failure;
            // a shared log may have taken the first messages of a long append: those batches
            // happened (in_transaction reports the command as recorded)
            if let Some(stored) = stored {
                let kept = staging
                    .events
                    .iter()
                    .take_while(|ev| ev.seq <= stored.seq)
                    .cloned();
                self.appended.extend(kept);
                self.command_last_seq = Some(stored.seq);
            }
            return Err(e);
        }
        crate::crash_point("append.durable");
        self.unreacted_from.get_or_insert(start);
        self.appended.extend(staging.events);
        Ok(start..self.appended.len())
    }

    /// Writes a staged reaction round to the log ([`Staging::append_round`]) and returns its
    /// events; on a failure, what a shared log stored of it all the same is counted among
    /// the session's appended events (the hook of [`Options::on_durable`] hears them) before
    /// the error is returned.
    fn round_appended(&mut self, staging: Staging, points: [&str; 2]) -> Result<Vec<Event>, LedgerError> {
        staging
            .append_round(self.ledger, points)
            .map_err(|(error, kept)| {
                self.appended.extend(kept);
                error
            })
    }

    /// Runs reaction rounds until every reactor has handled every event, inside the
    /// caller's transaction.
    pub(super) fn run_reactions(&mut self) -> Result<(), LedgerError> {
        if self.command_last_seq.is_some() {
            crate::fail_point("react", "react to", self.ledger.events_path())?;
        }
        for _ in 0..MAX_ROUNDS {
            let positions = self.ledger.positions()?;
            let head = super::least_projection_position(&self.ledger.stores, &positions)
                .unwrap_or(Position::GENESIS);
            let position_of = |name: &str| positions.get(name).copied().unwrap_or(Position::GENESIS);
            // (store, reactor) of every reactor that has not seen the head
            let behind: Vec<(usize, usize)> = self
                .ledger
                .stores
                .iter()
                .enumerate()
                .flat_map(|(si, s)| (0..s.spec.reactors.len()).map(move |ri| (si, ri)))
                .filter(|&(si, ri)| {
                    position_of(self.ledger.stores[si].spec.reactors[ri].name()).seq < head.seq
                })
                .filter_map(|(si, ri)| match self.ledger.runs_here(si, ri) {
                    Ok(true) => Some(Ok((si, ri))),
                    Ok(false) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<_, _>>()?;
            if behind.is_empty() {
                self.unreacted_from = None;
                return Ok(());
            }
            // one read of the range every lagging reactor still has to look at: from this
            // session's memory when it appended those events, else from the log
            let from = behind
                .iter()
                .map(|&(si, ri)| position_of(self.ledger.stores[si].spec.reactors[ri].name()))
                .min_by_key(|p| p.seq)
                .expect("some reactor is behind");
            let in_memory = self.unreacted_from.and_then(|k| {
                let first = self.appended.get(k)?;
                (first.seq <= from.seq + 1 && self.appended.last().is_some_and(|l| l.seq == head.seq))
                    .then(|| k + (from.seq + 1 - first.seq) as usize)
            });
            let read: Vec<Event>;
            let pending: &[Event] = match in_memory {
                Some(i) => &self.appended[i..],
                None => {
                    read = LogReader::open(&self.ledger.events, from)?
                        .stop_after(head.seq)
                        .map(|item| item.map(|(ev, _)| ev))
                        .collect::<Result<_, _>>()?;
                    &read
                }
            };
            let l = &mut *self.ledger;
            let mut staging = Staging::new(head);
            for (si, ri) in behind {
                let store = &l.stores[si];
                let tx = &store.db;
                let reactor = store.spec.reactors[ri].as_ref();
                let after = position_of(reactor.name()).seq;
                let todo = &pending[pending.partition_point(|e| e.seq <= after)..];
                // reactions already in the log (a crash came after their append)
                let handled: HashSet<Uuid> = todo
                    .iter()
                    .filter(|e| e.producer == reactor.name())
                    .filter_map(|e| e.causation_id)
                    .collect();
                for ev in todo {
                    if handled.contains(&ev.id) {
                        continue;
                    }
                    let mut ctx = Context {
                        now: self.now,
                        rng: &mut self.rng,
                        last_id: Some(&mut self.last_id),
                        session: Some(&*l),
                    };
                    let out = reactor.react(tx, ev, &mut ctx).map_err(|source| {
                        reaction_error(source, || (reactor.name(), ev.seq, ev.event_type.clone()))
                    })?;
                    if out.is_empty() {
                        continue;
                    }
                    let cause = Cause {
                        causation_id: ev.id,
                        correlation_id: ev.correlation_id,
                        reactor: reactor.name(),
                    };
                    staging.stage_applied(out, cause, &mut ctx, &l.stores)?;
                }
                flush(reactor, head.seq)?;
                set_position(tx, reactor.name(), &head).map_err(|e| db_err(&store.path, e))?;
            }
            let events = if staging.events.is_empty() {
                Vec::new()
            } else {
                self.round_appended(staging, ["react", "react.durable"])?
            };
            // what every reactor has now seen is done with; this round's reactions are next
            self.unreacted_from = Some(self.appended.len());
            self.appended.extend(events);
        }
        Err(LedgerError::React {
            name: "(all)".into(),
            seq: self.ledger.head()?.seq,
            event_type: String::new(),
            source: format!("reactions did not settle after {MAX_ROUNDS} rounds").into(),
        })
    }

    /// Asks every reactor for the deferred side effects it can deliver now
    /// ([`Reactor::retry`]), appends what they delivered as one write, and lets every
    /// reactor see it. Run once per write session, after the session's first commit.
    fn run_retries(&mut self) -> Result<(), LedgerError> {
        let head = self.ledger.head()?;
        let l = &mut *self.ledger;
        let mut staging = Staging::new(head);
        let here: Vec<(usize, usize)> = (0..l.stores.len())
            .flat_map(|si| (0..l.stores[si].spec.reactors.len()).map(move |ri| (si, ri)))
            .filter_map(|(si, ri)| match l.runs_here(si, ri) {
                Ok(true) => Some(Ok((si, ri))),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()?;
        for (store, reactor) in here
            .into_iter()
            .map(|(si, ri)| (&l.stores[si], &l.stores[si].spec.reactors[ri]))
        {
            let mut ctx = Context {
                now: self.now,
                rng: &mut self.rng,
                last_id: Some(&mut self.last_id),
                session: Some(&*l),
            };
            let delivered = reactor.retry(&store.db, &mut ctx).map_err(|source| {
                reaction_error(source, || {
                    (reactor.name(), head.seq, "(a deferred delivery)".to_owned())
                })
            })?;
            if delivered.is_empty() {
                continue;
            }
            for r in delivered.into_iter().filter(|r| !r.events.is_empty()) {
                let cause = Cause {
                    causation_id: r.causation_id,
                    correlation_id: r.correlation_id,
                    reactor: reactor.name(),
                };
                staging.stage_applied(r.events, cause, &mut ctx, &l.stores)?;
            }
            flush(reactor.as_ref(), head.seq)?;
        }
        if staging.events.is_empty() {
            return Ok(());
        }
        let events = self.round_appended(staging, ["retry", "retry.durable"])?;
        self.unreacted_from = Some(self.appended.len());
        self.appended.extend(events);
        self.run_reactions()
    }
}

/// What a reaction's batch comes from: the event it answers and the reactor that made it.
#[derive(Clone, Copy)]
struct Cause<'a> {
    causation_id: Uuid,
    correlation_id: Uuid,
    reactor: &'a str,
}

/// A reactor's failure: a sync asked for by [`Context::durable`] that failed, as it is (the
/// log was cut back, no reaction is to blame), else [`LedgerError::React`] naming the
/// reactor and the event (`what`: reactor name, seq, event type).
fn reaction_error<'a>(source: BoxError, what: impl FnOnce() -> (&'a str, u64, String)) -> LedgerError {
    let source: BoxError = match source.downcast::<LedgerError>() {
        Ok(sync) if sync.kept_seq().is_some() => return *sync,
        Ok(engine) => engine,
        Err(source) => source,
    };
    let (name, seq, event_type) = what();
    LedgerError::React {
        name: name.to_owned(),
        seq,
        event_type,
        source,
    }
}

/// Makes `reactor`'s side effects of this round durable ([`Reactor::flush`]).
fn flush(reactor: &dyn Reactor, seq: u64) -> Result<(), LedgerError> {
    reactor.flush().map_err(|source| LedgerError::Flush {
        name: reactor.name().to_owned(),
        seq,
        source,
    })
}

/// Staged batches of at least this many events are projected, committed and trimmed on one
/// thread per store (an import's or a shuffle's chunk): each store is its own SQLite
/// connection and file, so they are written at once. A command's few events are handled
/// on the calling thread, where starting threads would cost more than it saves (measured:
/// BENCHMARKS.md, session 12).
const PARALLEL_EVENTS: usize = 512;

/// [`PARALLEL_EVENTS`]; debug builds (the test suite) may lower it with
/// `POPUG_LEDGER_PARALLEL_EVENTS`, so that the crash and fault suites' small commands take
/// the parallel path too.
fn parallel_events() -> usize {
    crate::debug_setting("POPUG_LEDGER_PARALLEL_EVENTS", PARALLEL_EVENTS)
}

/// Runs `f` on every store's connection: on the calling thread, one store after the other,
/// or (`parallel`) on one thread per store. Returns the first store's error in store order
/// (with `parallel`, the stores after it may still have run `f`).
fn each_store(
    stores: &mut [OpenStore],
    parallel: bool,
    f: impl Fn(&Connection, &Path, &[Box<dyn Projection>]) -> Result<(), LedgerError> + Sync,
) -> Result<(), LedgerError> {
    if !parallel {
        return stores
            .iter()
            .try_for_each(|s| f(&s.db, &s.path, &s.spec.projections));
    }
    std::thread::scope(|scope| {
        // a thread the system refuses (too many processes, no memory) is an error like any
        // other of the store's: the caller's transaction is rolled back, never half done
        let threads: Vec<Result<_, LedgerError>> = stores
            .iter_mut()
            .map(|s| {
                let (db, path, projections) = (&mut s.db, s.path.as_path(), &s.spec.projections);
                let f = &f;
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || f(db, path, projections))
                    .map_err(|e| LedgerError::io("start a thread for", path, e))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.and_then(|t| t.join().expect("a store's work does not panic")))
            .collect::<Result<Vec<()>, LedgerError>>()
            .map(drop)
    })
}

/// Events encoded in memory, ready for one write.
struct Staging {
    start: Position,
    next: Position,
    bytes: Vec<u8>,
    events: Vec<Event>,
    /// Where each atomic batch ends in `bytes`, and the position after it: a shared log
    /// may carry a long append in several messages, each cut at the end of a batch.
    batch_ends: Vec<(usize, Position)>,
}

impl Staging {
    fn new(start: Position) -> Staging {
        Staging {
            start,
            next: start,
            bytes: Vec::new(),
            events: Vec::new(),
            batch_ends: Vec::new(),
        }
    }

    /// Stages a reaction's batch and applies it to every store's projections at once, so
    /// that a later reaction of the same round reads it.
    fn stage_applied(
        &mut self,
        batch: Vec<NewEvent>,
        cause: Cause<'_>,
        ctx: &mut Context<'_>,
        stores: &[OpenStore],
    ) -> Result<(), LedgerError> {
        let staged = self.stage(batch, Some(cause), ctx);
        for e in &self.events[staged] {
            for s in stores {
                for p in &s.spec.projections {
                    apply(p.as_ref(), &s.db, e)?;
                }
            }
        }
        Ok(())
    }

    /// Records the projections' positions after this round (in the open SQLite
    /// transactions) and writes the round to the log (synced by the session); `points` name
    /// its crash points (before the write, after it).
    /// On a failure, the events of the round that a shared log stored all the same (the
    /// first messages of a long round) are given back with the error: they happened.
    fn append_round(
        self,
        l: &mut Ledger,
        points: [&str; 2],
    ) -> Result<Vec<Event>, (LedgerError, Vec<Event>)> {
        for s in &l.stores {
            set_projection_positions(&s.db, &s.spec.projections, &self.next)
                .map_err(|e| (db_err(&s.path, e), Vec::new()))?;
        }
        crate::crash_point(points[0]);
        // a round stored in part (a shared log, a long round) is caught up from the log
        if let Err(failure) = l.append_log(self.start, &self.bytes, &self.batch_ends) {
            let AppendFailure { error, stored } = *failure;
            let kept = match stored {
                Some(stored) => self
                    .events
                    .into_iter()
                    .take_while(|ev| ev.seq <= stored.seq)
                    .collect(),
                None => Vec::new(),
            };
            return Err((error, kept));
        }
        crate::crash_point(points[1]);
        Ok(self.events)
    }

    /// Stages one atomic batch, with its ids and instant from the session's `ctx`; `cause`
    /// is the event and the reactor's name when the batch is a reaction.
    fn stage(
        &mut self,
        batch: Vec<NewEvent>,
        cause: Option<Cause<'_>>,
        ctx: &mut Context<'_>,
    ) -> std::ops::Range<usize> {
        // never earlier than the event before: a session whose instant was passed by
        // another writer's events (a shared log) stamps its events with that event's instant
        let now = self.next.at.map_or(ctx.now, |last| ctx.now.max(last));
        let first = self.events.len();
        let batch_end = self.next.seq + batch.len() as u64;
        let mut correlation = cause.map(|c| c.correlation_id);
        for ne in batch {
            let id = ctx.new_id();
            let mut ev = Event {
                seq: self.next.seq + 1,
                id,
                event_type: ne.event_type,
                version: ne.version,
                at: now,
                producer: cause.map_or(ne.producer, |c| c.reactor.to_owned()),
                actor: ne.actor,
                causation_id: cause.map(|c| c.causation_id),
                correlation_id: *correlation.get_or_insert(id),
                data: ne.data,
                batch_end,
                prev: self.next.hash,
                hash: Hash::GENESIS,
                decoded: Default::default(),
            };
            let before = self.bytes.len();
            ev.hash = line::encode(&ev, &mut self.bytes);
            self.next = Position {
                seq: ev.seq,
                offset: self.next.offset + (self.bytes.len() - before) as u64,
                hash: ev.hash,
                at: Some(now),
            };
            self.events.push(ev);
        }
        self.batch_ends.push((self.bytes.len(), self.next));
        first..self.events.len()
    }
}

/// How long a write session (and, in the application, a command) keeps deciding again after
/// conflicts on a shared log before it gives up: under contention a writer may lose many
/// races in a row, and ten seconds of them is a cluster too busy for this writer (a
/// command's own reactions that give up are finished by any later writer).
pub const SHARED_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits a little before deciding again after the `attempt`-th conflict: 2 ms, doubling, up
/// to 128 ms, with jitter so that racing writers spread out.
pub fn backoff(attempt: u32) {
    let base = 2u64 << attempt.min(6);
    let jitter = rand::RngExt::random_range(&mut rand::rng(), 0..=base);
    std::thread::sleep(std::time::Duration::from_millis(base / 2 + jitter));
}

/// A UUIDv7 at `now`. With `last` (a write session's last id), ids increase within the
/// session (RFC 9562, 6.2, method 2): in the same millisecond the 74 random bits go on from
/// the last id by a random step, so rows keyed by these ids are appended at the right edge
/// of their B-tree instead of at random places (a session's ids share its one instant).
pub(super) fn new_id(now: DateTime<Utc>, rng: &mut StdRng, last: Option<&mut u128>) -> Uuid {
    const RAND_B: u128 = (1 << 62) - 1;
    let ms = now.timestamp_millis() as u64;
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    let fresh = uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid();
    let Some(last) = last else { return fresh };
    // the 74 random bits: rand_a (12 bits after the version) and rand_b (62 after the variant)
    let random_bits = |u: u128| ((u >> 64) & 0xfff) << 62 | (u & RAND_B);
    let same_ms = *last != 0 && (*last >> 80) as u64 == ms;
    let counter = if same_ms {
        random_bits(*last) + 1 + u128::from(rng.next_u32())
    } else {
        // a new millisecond: fresh bits with the top one clear, so the counter has room for
        // 2^41 steps before it could run out
        random_bits(fresh.as_u128()) & !(1 << 73)
    };
    if counter >> 74 != 0 {
        // out of room (not reachable in practice): a fresh random id, still unique
        *last = fresh.as_u128();
        return fresh;
    }
    let id = u128::from(ms) << 80 | 0x7 << 76 | (counter >> 62) << 64 | 0b10 << 62 | (counter & RAND_B);
    *last = id;
    Uuid::from_u128(id)
}
