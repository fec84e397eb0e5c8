//! `GET` list endpoints: filter parsing, index choice and paging.
//!
//! Opportunity pages are served from indexes so a page costs about `limit` lookups, not a
//! scan of the account: with a stage/tag/posting/email/contact filter the smallest union of
//! index sets is walked in id order; with only an `updated_at` window the updatedAt index is
//! walked in `(updatedAt, id)` order. The order picked on the first page travels inside the
//! offset token, so later pages keep it even if the world changed in between.

use std::collections::btree_set;
use std::collections::{BTreeSet, HashMap};
use std::iter::Peekable;
use std::ops::Bound;

use serde::Serialize;

use super::access::Access;
use super::model::{Confidentiality, Expand, NoteView, Opportunity, OpportunityView, PostingView};
use super::pager::{Envelope, Position, TokenCodec, binding, parse_limit, take_page};
use super::variants::ConfidentialDenial;
use super::world::LeverWorld;
use crate::sim::query::QueryParams;

/// Why a list request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListError {
    /// 400: a bad parameter.
    BadRequest(String),
    /// "Invalid offset token: ..." (400 unless a variant picks another status).
    BadOffset(String),
    /// 403: the credential may not see what was asked for.
    Forbidden(String),
}

impl From<String> for ListError {
    fn from(m: String) -> Self {
        ListError::BadRequest(m)
    }
}

impl ListError {
    /// The message, whatever the kind.
    pub(crate) fn message(&self) -> &str {
        match self {
            ListError::BadRequest(m) | ListError::BadOffset(m) | ListError::Forbidden(m) => m,
        }
    }
}

type Listed = Result<Vec<u8>, ListError>;

/// One secondary index: value → ids carrying it.
type IdIndex = HashMap<String, BTreeSet<String>>;

const ORDER_ID: u8 = 0;
const ORDER_UPDATED: u8 = 1;

/// An inclusive ms window; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Window {
    start: Option<i64>,
    end: Option<i64>,
}

impl Window {
    fn parse(q: &QueryParams, prefix: &str) -> Result<Window, String> {
        let one = |suffix: &str| -> Result<Option<i64>, String> {
            let key = format!("{prefix}_{suffix}");
            match q.first(&key) {
                None => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                    format!("Invalid {key} {v:?}: expected milliseconds since the epoch")
                }),
            }
        };
        Ok(Window {
            start: one("start")?,
            end: one("end")?,
        })
    }

    fn given(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    /// A record with no timestamp (null `updatedAt`) never matches a given window.
    fn contains(&self, t: Option<i64>) -> bool {
        if !self.given() {
            return true;
        }
        t.is_some_and(|t| self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConfFilter {
    NonConfidential,
    Confidential,
    All,
    /// Asked for confidential rows only without the right to see them (omit variant).
    Nothing,
}

impl ConfFilter {
    fn parse(q: &QueryParams) -> Result<ConfFilter, String> {
        match q.first("confidentiality") {
            None | Some("non-confidential") => Ok(ConfFilter::NonConfidential),
            Some("confidential") => Ok(ConfFilter::Confidential),
            Some("all") => Ok(ConfFilter::All),
            Some(v) => Err(format!(
                "Invalid confidentiality {v:?}: expected confidential, non-confidential or all"
            )),
        }
    }

    /// What a credential actually gets: a credential without confidential access that asks
    /// for confidential data is refused (403) or served without it, per the variant.
    fn confine(self, access: &Access, denial: ConfidentialDenial) -> Result<Self, ListError> {
        if access.confidential || self == ConfFilter::NonConfidential {
            return Ok(self);
        }
        match denial {
            ConfidentialDenial::Forbidden => Err(ListError::Forbidden(format!(
                "This {} does not have access to confidential data",
                access.kind
            ))),
            ConfidentialDenial::Omit if self == ConfFilter::All => Ok(ConfFilter::NonConfidential),
            ConfidentialDenial::Omit => Ok(ConfFilter::Nothing),
        }
    }

    fn admits(self, c: Confidentiality) -> bool {
        match self {
            ConfFilter::All => true,
            ConfFilter::NonConfidential => c == Confidentiality::NonConfidential,
            ConfFilter::Confidential => c == Confidentiality::Confidential,
            ConfFilter::Nothing => false,
        }
    }
}

/// The filters of `GET /opportunities`.
#[derive(Debug, Clone)]
pub(crate) struct OppQuery {
    stage_ids: Vec<String>,
    tags: Vec<String>,
    posting_ids: Vec<String>,
    emails: Vec<String>,
    contact_ids: Vec<String>,
    archived: Option<bool>,
    confidentiality: ConfFilter,
    updated: Window,
    created: Window,
    pub(crate) expand: Expand,
}

fn parse_bool(q: &QueryParams, key: &str) -> Result<Option<bool>, String> {
    match q.first(key) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(format!("Invalid {key} {v:?}: expected true or false")),
    }
}

fn owned(q: &QueryParams, key: &str) -> Vec<String> {
    q.all(key).map(str::to_owned).collect()
}

/// Parses repeated `expand` values against the documented set.
pub(crate) fn parse_expand(q: &QueryParams, allowed: &[&str]) -> Result<Expand, String> {
    let mut e = Expand::default();
    for v in q.all("expand") {
        if !allowed.contains(&v) {
            return Err(format!("{v} is not expandable"));
        }
        match v {
            "applications" => e.applications = true,
            "stage" => e.stage = true,
            "owner" => e.owner = true,
            "followers" => e.followers = true,
            // Accepted but left as ids (the daemon never asks for them).
            _ => {}
        }
    }
    Ok(e)
}

impl OppQuery {
    pub(crate) fn parse(q: &QueryParams) -> Result<OppQuery, String> {
        let emails = owned(q, "email");
        for e in &emails {
            let valid = e
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
            if !valid {
                return Err("Email address is not valid".to_owned());
            }
        }
        let confidentiality = ConfFilter::parse(q)?;
        Ok(OppQuery {
            stage_ids: owned(q, "stage_id"),
            tags: owned(q, "tag"),
            posting_ids: owned(q, "posting_id"),
            emails: emails.iter().map(|e| e.to_lowercase()).collect(),
            contact_ids: owned(q, "contact_id"),
            archived: parse_bool(q, "archived")?,
            confidentiality,
            updated: Window::parse(q, "updated_at")?,
            created: Window::parse(q, "created_at")?,
            expand: parse_expand(
                q,
                &[
                    "applications",
                    "stage",
                    "owner",
                    "followers",
                    "sourcedBy",
                    "contact",
                ],
            )?,
        })
    }

    pub(crate) fn matches(&self, o: &Opportunity) -> bool {
        (self.stage_ids.is_empty() || self.stage_ids.contains(&o.stage))
            && (self.tags.is_empty() || o.tags.iter().any(|t| self.tags.contains(t)))
            && (self.posting_ids.is_empty()
                || o.application
                    .as_ref()
                    .is_some_and(|a| self.posting_ids.contains(&a.posting)))
            && (self.emails.is_empty()
                || o.emails
                    .iter()
                    .any(|e| self.emails.contains(&e.to_lowercase())))
            && (self.contact_ids.is_empty() || self.contact_ids.contains(&o.contact))
            && self.archived.is_none_or(|a| a == o.archived.is_some())
            && self.confidentiality.admits(o.confidentiality)
            && self.updated.contains(o.updated_at)
            && self.created.contains(Some(o.created_at))
    }

    /// The smallest union of index sets that must contain every match, if any indexed
    /// filter was given (stage, tag, posting, email, contact, archived=true, confidential).
    fn candidate_sets<'w>(&self, w: &'w LeverWorld) -> Option<Vec<&'w BTreeSet<String>>> {
        let kinds: [(&Vec<String>, &IdIndex); 5] = [
            (&self.stage_ids, &w.idx.by_stage),
            (&self.tags, &w.idx.by_tag),
            (&self.posting_ids, &w.idx.by_posting),
            (&self.emails, &w.idx.by_email),
            (&self.contact_ids, &w.idx.by_contact),
        ];
        let mut candidates: Vec<Vec<&'w BTreeSet<String>>> = kinds
            .iter()
            .filter(|(values, _)| !values.is_empty())
            .map(|(values, index)| values.iter().filter_map(|v| index.get(v)).collect())
            .collect();
        if self.archived == Some(true) {
            candidates.push(vec![&w.idx.archived]);
        }
        match self.confidentiality {
            ConfFilter::Confidential => candidates.push(vec![&w.idx.confidential]),
            ConfFilter::Nothing => candidates.push(Vec::new()),
            ConfFilter::All | ConfFilter::NonConfidential => {}
        }
        candidates
            .into_iter()
            .min_by_key(|sets| sets.iter().map(|s| s.len()).sum::<usize>())
    }

    fn updated_range<'w>(
        &self,
        w: &'w LeverWorld,
        after: Option<&Position>,
    ) -> impl Iterator<Item = &'w (i64, String)> + 'w {
        let lower = match after {
            Some(p) => Bound::Excluded((p.t, p.id.clone())),
            None => Bound::Included((self.updated.start.unwrap_or(i64::MIN), String::new())),
        };
        let end = self.updated.end;
        w.idx
            .by_updated
            .range((lower, Bound::Unbounded))
            .take_while(move |(t, _)| end.is_none_or(|e| *t <= e))
    }

    fn choose_order(&self, w: &LeverWorld) -> u8 {
        match (self.candidate_sets(w), self.updated.given()) {
            (None, false) => ORDER_ID,
            (None, true) => ORDER_UPDATED,
            (Some(_), false) => ORDER_ID,
            (Some(sets), true) => {
                let n: usize = sets.iter().map(|s| s.len()).sum();
                // Walk whichever is smaller; counting stops as soon as the window is larger.
                if self.updated_range(w, None).take(n + 1).count() <= n {
                    ORDER_UPDATED
                } else {
                    ORDER_ID
                }
            }
        }
    }
}

/// Ids of several sets, merged in order without duplicates, starting after `after`.
struct Union<'a> {
    iters: Vec<Peekable<btree_set::Range<'a, String>>>,
}

impl<'a> Union<'a> {
    fn new(sets: Vec<&'a BTreeSet<String>>, after: Option<&str>) -> Self {
        let lower = match after {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        Union {
            iters: sets
                .into_iter()
                .map(|s| s.range::<str, _>((lower, Bound::Unbounded)).peekable())
                .collect(),
        }
    }
}

impl<'a> Iterator for Union<'a> {
    type Item = &'a String;

    fn next(&mut self) -> Option<&'a String> {
        let min = self
            .iters
            .iter_mut()
            .filter_map(|i| i.peek().copied())
            .min()?;
        for i in &mut self.iters {
            if i.peek() == Some(&min) {
                i.next();
            }
        }
        Some(min)
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own view structs to a Vec cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode_after(
    q: &QueryParams,
    codec: &TokenCodec,
    bound: &str,
) -> Result<Option<Position>, ListError> {
    q.first("offset")
        .map(|t| codec.decode(bound, t))
        .transpose()
        .map_err(ListError::BadOffset)
}

/// `GET /v1/opportunities`.
pub(crate) fn opportunities(
    w: &LeverWorld,
    q: &QueryParams,
    codec: &TokenCodec,
    route: &str,
    access: &Access,
) -> Listed {
    let mut query = OppQuery::parse(q)?;
    query.confidentiality = query
        .confidentiality
        .confine(access, w.variants.confidential_denial)?;
    let limit = parse_limit(q)?;
    let bound = binding(route, q);
    let after = decode_after(q, codec, &bound)?;
    let order = after
        .as_ref()
        .map_or_else(|| query.choose_order(w), |p| p.o);
    let (items, next) = if order == ORDER_UPDATED {
        let iter = query
            .updated_range(w, after.as_ref())
            .filter_map(|(t, id)| {
                w.opps.get(id).filter(|o| query.matches(o)).map(|o| {
                    (
                        Position {
                            o: ORDER_UPDATED,
                            t: *t,
                            id: id.clone(),
                        },
                        o,
                    )
                })
            });
        take_page(iter, limit)
    } else {
        let after_id = after.as_ref().map(|p| p.id.as_str());
        let rows: Box<dyn Iterator<Item = (&String, &Opportunity)>> = match query.candidate_sets(w)
        {
            Some(sets) => {
                Box::new(Union::new(sets, after_id).filter_map(|id| w.opps.get_key_value(id)))
            }
            None => {
                // No index applies: walk the map itself (no second lookup per row).
                let lower = after_id.map_or(Bound::Unbounded, Bound::Excluded);
                Box::new(w.opps.range::<str, _>((lower, Bound::Unbounded)))
            }
        };
        let iter = rows.filter(|(_, o)| query.matches(o)).map(|(id, o)| {
            (
                Position {
                    o: ORDER_ID,
                    t: 0,
                    id: id.clone(),
                },
                o,
            )
        });
        take_page(iter, limit)
    };
    let data: Vec<OpportunityView<'_>> = items
        .into_iter()
        .map(|o| OpportunityView::new(o, query.expand, w.variants.archived_form, w, &w.origin))
        .collect();
    Ok(to_json(&Envelope {
        data,
        has_next: next.is_some(),
        next: next.map(|p| codec.encode(&bound, &p)),
    }))
}

/// Pages any list already in position order.
fn simple<T: Serialize>(
    items: impl Iterator<Item = (Position, T)>,
    q: &QueryParams,
    codec: &TokenCodec,
    route: &str,
) -> Listed {
    let limit = parse_limit(q)?;
    let bound = binding(route, q);
    let after = decode_after(q, codec, &bound)?;
    let iter = items.filter(|(p, _)| after.as_ref().is_none_or(|a| p > a));
    let (data, next) = take_page(iter, limit);
    Ok(to_json(&Envelope {
        data,
        has_next: next.is_some(),
        next: next.map(|p| codec.encode(&bound, &p)),
    }))
}

fn pos(t: i64, id: &str) -> Position {
    Position {
        o: ORDER_ID,
        t,
        id: id.to_owned(),
    }
}

/// `GET /v1/stages` in pipeline order.
pub(crate) fn stages(w: &LeverWorld, q: &QueryParams, c: &TokenCodec, route: &str) -> Listed {
    let items = w
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| (pos(i as i64, &s.id), s));
    simple(items, q, c, route)
}

/// `GET /v1/users`: active users unless `includeDeactivated=true`; `email`, `accessRole`.
pub(crate) fn users(w: &LeverWorld, q: &QueryParams, c: &TokenCodec, route: &str) -> Listed {
    let include_deactivated = parse_bool(q, "includeDeactivated")?.unwrap_or(false);
    let emails: Vec<String> = q.all("email").map(str::to_lowercase).collect();
    let roles = owned(q, "accessRole");
    let items = w
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| include_deactivated || u.deactivated_at.is_none())
        .filter(|(_, u)| emails.is_empty() || emails.contains(&u.email.to_lowercase()))
        .filter(|(_, u)| roles.is_empty() || roles.contains(&u.access_role))
        .map(|(i, u)| (pos(i as i64, &u.id), u));
    simple(items, q, c, route)
}

/// `GET /v1/postings`: `state`, `tag`, `team`, `location`, `commitment` (each repeatable,
/// union), `confidentiality` (non-confidential by default), `distributionChannel` (published
/// postings on the public job site unless the channels are named), `updated_at_*` (which
/// Lever allows only together with `confidentiality`).
pub(crate) fn postings(
    w: &LeverWorld,
    q: &QueryParams,
    c: &TokenCodec,
    route: &str,
    access: &Access,
) -> Listed {
    let states = owned(q, "state");
    let tags = owned(q, "tag");
    let teams = owned(q, "team");
    let locations = owned(q, "location");
    let commitments = owned(q, "commitment");
    let updated = Window::parse(q, "updated_at")?;
    let others = [
        "state",
        "tag",
        "team",
        "location",
        "commitment",
        "department",
        "level",
        "group",
        "distributionChannel",
    ];
    if updated.given() && others.iter().any(|k| q.first(k).is_some()) {
        return Err(ListError::BadRequest(
            "updated_at_start and updated_at_end can only be combined with confidentiality".into(),
        ));
    }
    let conf = ConfFilter::parse(q)?.confine(access, w.variants.confidential_denial)?;
    let mut channels: Vec<String> = owned(q, "distributionChannel");
    if let Some(bad) = channels
        .iter()
        .find(|c| !matches!(c.as_str(), "public" | "internal"))
    {
        return Err(ListError::BadRequest(format!(
            "Invalid distributionChannel {bad:?}: expected public or internal"
        )));
    }
    if channels.is_empty() {
        // Published postings default to those on the public job site.
        channels.push("public".to_owned());
    }
    parse_expand(q, &["user", "owner", "hiringManager", "followers"])?;
    let origin = w.origin.as_str();
    let items = w
        .postings
        .iter()
        .enumerate()
        .filter(|(_, p)| states.is_empty() || states.contains(&p.state))
        .filter(|(_, p)| tags.is_empty() || p.tags.iter().any(|t| tags.contains(t)))
        .filter(|(_, p)| teams.is_empty() || p.team.as_ref().is_some_and(|t| teams.contains(t)))
        .filter(|(_, p)| {
            locations.is_empty() || p.location.as_ref().is_some_and(|l| locations.contains(l))
        })
        .filter(|(_, p)| {
            commitments.is_empty()
                || p.commitment
                    .as_ref()
                    .is_some_and(|x| commitments.contains(x))
        })
        .filter(|(_, p)| conf.admits(p.confidentiality))
        .filter(|(_, p)| {
            // Only published postings have job sites; the others are not filtered by them.
            p.state != "published"
                || p.distribution
                    .channels()
                    .iter()
                    .any(|c| channels.iter().any(|x| x == c))
        })
        .filter(|(_, p)| updated.contains(Some(p.updated_at)))
        .map(|(i, p)| (pos(i as i64, &p.id), PostingView::new(p, origin)));
    simple(items, q, c, route)
}

#[derive(Serialize)]
struct TagRow<'a> {
    text: &'a str,
    count: usize,
}

/// `GET /v1/tags`: every tag carried by a live opportunity, with how many carry it.
pub(crate) fn tags(w: &LeverWorld, q: &QueryParams, c: &TokenCodec, route: &str) -> Listed {
    let mut rows: Vec<(&String, usize)> = w.idx.by_tag.iter().map(|(t, s)| (t, s.len())).collect();
    rows.sort();
    let items = rows
        .into_iter()
        .map(|(text, count)| (pos(0, text), TagRow { text, count }));
    simple(items, q, c, route)
}

/// `GET /v1/opportunities/deleted` with `deleted_at_start`/`deleted_at_end` (inclusive).
pub(crate) fn deleted(w: &LeverWorld, q: &QueryParams, c: &TokenCodec, route: &str) -> Listed {
    let window = Window::parse(q, "deleted_at")?;
    let items = w
        .deleted
        .iter()
        .filter(|d| window.contains(Some(d.deleted_at)))
        .map(|d| (pos(d.deleted_at, &d.id), d));
    simple(items, q, c, route)
}

/// `GET /v1/opportunities/{id}/notes`.
pub(crate) fn notes(
    w: &LeverWorld,
    id: &str,
    q: &QueryParams,
    c: &TokenCodec,
    route: &str,
) -> Listed {
    let items = w
        .notes
        .get(id)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, n)| (pos(i as i64, &n.id), NoteView::new(n)));
    simple(items, q, c, route)
}
