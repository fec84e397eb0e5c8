//! The demo tenant's world: a Lever pipeline with postings and about thirty candidates, two
//! Willo interviews and a tag-catalog placeholder, seeded into the simulators.
//!
//! The cast is chosen so that the start-up full pass and the story each show one rule of
//! docs/behaviour.md: posting tags, no email, contact consent, one person with two
//! opportunities, a job that is not connected to any interview.

use crate::domain::tags::TagTemplate;
use crate::sim::SimError;
use crate::sim::lever::{LeverSim, OppSeed, PostingSeed};
use crate::sim::willo::WilloSim;

/// `account_name` of the demo tenant; `config/sandbox.toml` must say the same (a test checks).
pub const ACCOUNT: &str = "Demo Co";
/// The trigger stage; `config/sandbox.toml` names it in `trigger_stages` (a test checks).
pub const TRIGGER_STAGE: &str = "Video Interview";
/// The pipeline, in order.
pub const STAGES: [&str; 5] = [
    "New Applicant",
    "Phone Screen",
    TRIGGER_STAGE,
    "Onsite",
    "Offer",
];
/// The Willo interviews.
pub const PRODUCT_MANAGER: &str = "Product Manager";
pub const SOFTWARE_ENGINEER: &str = "Software Engineer";
/// The posting no interview is connected to.
pub const OFFICE_MANAGER: &str = "Office Manager";
/// Name of the placeholder opportunity that carries the tag catalog (rule: tag catalog, docs/behaviour.md).
pub const CATALOG_NAME: &str = "Willo tag catalog";

/// One Willo interview of the demo.
#[derive(Debug, Clone)]
pub struct DemoInterview {
    pub key: String,
    pub title: String,
}

/// One Lever opportunity of the demo, with what the narrative says about it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    /// How the narrative names it ("Grace Hopper", "Grace Hopper (referral)").
    pub label: String,
    pub email: Option<String>,
    /// The posting's title, or "referral" for the one on no posting.
    pub job: String,
    /// What the story says they are ("Product Manager applicant").
    pub role: String,
    /// Title of the interview it is connected to, if any.
    pub interview: Option<String>,
    /// Connected only through its posting's tag (added after the candidate applied).
    pub via_posting: bool,
    /// `dataProtection.contact.allowed == false`.
    pub declined_contact: bool,
    /// In the trigger stage when the daemon starts.
    pub starts_in_trigger: bool,
}

/// The candidates the story acts on, by role.
#[derive(Debug, Clone)]
pub struct Actors {
    /// Moved into the trigger stage; webhook delivered.
    pub ada: String,
    /// Moved into the trigger stage; webhook lost.
    pub edsger: String,
    /// Applied to Software Engineer before the posting was tagged; webhook delivered.
    pub donald: String,
    /// On the Office Manager posting: moved, and nothing must happen.
    pub hedy: String,
    /// The second opportunity of Grace Hopper (same email): adopted, not invited twice.
    pub grace_referral: String,
    /// Moved into the trigger stage; webhook lost.
    pub barbara: String,
    /// Already invited at start: completes, accepted, then the tag is removed by hand.
    pub alan: String,
    /// Already invited at start: completes (Willo webhook lost).
    pub katherine: String,
    /// Already invited at start (through the posting tag): completes, rejected.
    pub margaret: String,
    /// Already invited at start: completes, accepted.
    pub grace: String,
}

/// What was seeded, with the ids the simulators gave.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Stage id of [`TRIGGER_STAGE`].
    pub trigger_stage: String,
    pub interviews: Vec<DemoInterview>,
    /// Every opportunity except the catalog placeholder, in seeding order.
    pub candidates: Vec<Candidate>,
    pub postings: usize,
    pub catalog_opportunity: String,
    pub actors: Actors,
}

impl Demo {
    /// The candidate with this opportunity id.
    pub fn candidate(&self, id: &str) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.id == id)
    }

    /// How the narrative names an opportunity (its id when it is not part of the cast).
    pub fn label(&self, id: &str) -> String {
        match self.candidate(id) {
            Some(c) => c.label.clone(),
            None if id == self.catalog_opportunity => CATALOG_NAME.to_owned(),
            None => format!("opportunity {id}"),
        }
    }

    /// The interview title of a Willo interview key.
    pub fn interview_title(&self, key: &str) -> Option<&str> {
        self.interviews
            .iter()
            .find(|i| i.key == key)
            .map(|i| i.title.as_str())
    }

    /// Candidates the start-up full pass must invite: in the trigger stage, connected, with
    /// an email and consent.
    pub fn invited_at_start(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().filter(|c| {
            c.starts_in_trigger && c.interview.is_some() && c.email.is_some() && !c.declined_contact
        })
    }

    /// Seeds both simulators. Lever's stages, postings and candidates; Willo's interviews.
    pub fn seed(lever: &LeverSim, willo: &WilloSim) -> Result<Demo, SimError> {
        let template = TagTemplate::parse(TagTemplate::DEFAULT)
            .map_err(|e| SimError::Invalid(e.to_string()))?;
        let mut stage_ids = Vec::new();
        for s in STAGES {
            stage_ids.push(lever.add_stage(s));
        }
        let stage = |name: &str| -> Result<String, SimError> {
            STAGES
                .iter()
                .position(|s| *s == name)
                .and_then(|i| stage_ids.get(i).cloned())
                .ok_or_else(|| SimError::unknown("stage", name))
        };
        let trigger = stage(TRIGGER_STAGE)?;

        let interviews: Vec<DemoInterview> = [PRODUCT_MANAGER, SOFTWARE_ENGINEER]
            .into_iter()
            .map(|title| DemoInterview {
                key: willo.add_interview(title),
                title: title.to_owned(),
            })
            .collect();
        let pm_tag = template.render(PRODUCT_MANAGER, ACCOUNT);
        let se_tag = template.render(SOFTWARE_ENGINEER, ACCOUNT);

        // The catalog placeholder first, so it is the oldest opportunity, as in a real account.
        let catalog_opportunity = lever.add_opportunity(OppSeed::new(CATALOG_NAME, ""))?;

        let pm = lever.add_posting(PostingSeed::new(PRODUCT_MANAGER).tag(&pm_tag))?;
        // Tagged only after its first applicants arrived: they do not carry the tag
        // themselves and are connected through the posting (match_posting_tags).
        let se = lever.add_posting(PostingSeed::new(SOFTWARE_ENGINEER))?;
        let om = lever.add_posting(PostingSeed::new(OFFICE_MANAGER))?;

        let mut seeder = Seeder {
            lever,
            candidates: Vec::new(),
        };
        let mut add = |s: Spec<'_>| -> Result<String, SimError> {
            let (posting, interview, via_posting) = match s.job {
                Job::Pm => (Some(&pm), Some(PRODUCT_MANAGER), false),
                Job::SeBeforeTag => (Some(&se), Some(SOFTWARE_ENGINEER), true),
                Job::SeAfterTag => (Some(&se), Some(SOFTWARE_ENGINEER), false),
                Job::Om => (Some(&om), None, false),
                Job::PmReferral => (None, Some(PRODUCT_MANAGER), false),
            };
            let mut seed =
                OppSeed::new(s.name, s.email.as_deref().unwrap_or("")).stage(&stage(s.stage)?);
            if let Some(p) = posting {
                seed = seed.posting(p);
            }
            if matches!(s.job, Job::PmReferral) {
                seed = seed.tag(&pm_tag);
            }
            if s.declined_contact {
                seed = seed.contact_consent(false);
            }
            if let Some(contact) = s.contact {
                seed = seed.contact(contact);
            }
            seeder.add(seed, &s, interview, via_posting)
        };

        use Job::*;
        let ph = "Phone Screen";
        let new = "New Applicant";
        // Product Manager applicants.
        let grace = add(Spec::new("Grace Hopper", Pm, TRIGGER_STAGE))?;
        let alan = add(Spec::new("Alan Turing", Pm, TRIGGER_STAGE))?;
        let katherine = add(Spec::new("Katherine Johnson", Pm, TRIGGER_STAGE))?;
        add(Spec::new("Dennis Ritchie", Pm, TRIGGER_STAGE).no_email())?;
        add(Spec::new("Ken Thompson", Pm, TRIGGER_STAGE).declined_contact())?;
        let ada = add(Spec::new("Ada Lovelace", Pm, ph))?;
        let edsger = add(Spec::new("Edsger Dijkstra", Pm, ph))?;
        add(Spec::new("John McCarthy", Pm, ph))?;
        add(Spec::new("Frances Allen", Pm, new))?;
        add(Spec::new("Claude Shannon", Pm, new))?;
        add(Spec::new("Jean Bartik", Pm, "Onsite"))?;
        // Software Engineer applicants who applied before the posting was tagged.
        let margaret = add(Spec::new("Margaret Hamilton", SeBeforeTag, TRIGGER_STAGE))?;
        let donald = add(Spec::new("Donald Knuth", SeBeforeTag, ph))?;
        add(Spec::new("Radia Perlman", SeBeforeTag, ph))?;
        add(Spec::new("Leslie Lamport", SeBeforeTag, new))?;
        add(Spec::new("Tim Berners-Lee", SeBeforeTag, new))?;
        add(Spec::new("Annie Easley", SeBeforeTag, "Offer"))?;
        lever.tag_posting(&se, &[&se_tag])?;
        // ... and after: they inherit the tag.
        add(Spec::new("Guido van Rossum", SeAfterTag, TRIGGER_STAGE))?;
        let barbara = add(Spec::new("Barbara Liskov", SeAfterTag, ph))?;
        add(Spec::new("Sophie Wilson", SeAfterTag, ph))?;
        add(Spec::new("Linus Torvalds", SeAfterTag, new))?;
        add(Spec::new("Adele Goldberg", SeAfterTag, new))?;
        add(Spec::new("Bjarne Stroustrup", SeAfterTag, new))?;
        // Office Manager: no interview is connected to this job.
        let hedy = add(Spec::new("Hedy Lamarr", Om, ph))?;
        add(Spec::new("Mary Kenneth Keller", Om, TRIGGER_STAGE))?;
        add(Spec::new("Lynn Conway", Om, new))?;
        add(Spec::new("Evelyn Boyd Granville", Om, new))?;
        // Grace Hopper again: a referral a recruiter tagged for the PM interview by hand.
        let grace_contact = lever
            .opportunity(&grace)
            .map(|o| o.contact)
            .ok_or_else(|| SimError::Invalid("Grace Hopper's opportunity vanished".into()))?;
        let grace_referral = add(Spec::new("Grace Hopper", PmReferral, ph)
            .label("Grace Hopper's second opportunity")
            .contact(&grace_contact))?;

        Ok(Demo {
            trigger_stage: trigger,
            interviews,
            candidates: seeder.candidates,
            postings: 3,
            catalog_opportunity,
            actors: Actors {
                ada,
                edsger,
                donald,
                hedy,
                grace_referral,
                barbara,
                alan,
                katherine,
                margaret,
                grace,
            },
        })
    }
}

#[derive(Clone, Copy)]
enum Job {
    Pm,
    SeBeforeTag,
    SeAfterTag,
    Om,
    PmReferral,
}

struct Spec<'a> {
    name: &'a str,
    label: Option<&'a str>,
    email: Option<String>,
    job: Job,
    stage: &'a str,
    declined_contact: bool,
    contact: Option<&'a str>,
}

impl<'a> Spec<'a> {
    fn new(name: &'a str, job: Job, stage: &'a str) -> Spec<'a> {
        Spec {
            name,
            label: None,
            email: Some(email_of(name)),
            job,
            stage,
            declined_contact: false,
            contact: None,
        }
    }

    fn no_email(mut self) -> Self {
        self.email = None;
        self
    }

    fn declined_contact(mut self) -> Self {
        self.declined_contact = true;
        self
    }

    fn label(mut self, label: &'a str) -> Self {
        self.label = Some(label);
        self
    }

    fn contact(mut self, contact: &'a str) -> Self {
        self.contact = Some(contact);
        self
    }
}

/// `Ada Lovelace` → `ada.lovelace@example.com`.
fn email_of(name: &str) -> String {
    let local: Vec<String> = name
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .collect();
    format!("{}@example.com", local.join("."))
}

struct Seeder<'a> {
    lever: &'a LeverSim,
    candidates: Vec<Candidate>,
}

impl Seeder<'_> {
    fn add(
        &mut self,
        seed: OppSeed,
        spec: &Spec<'_>,
        interview: Option<&str>,
        via_posting: bool,
    ) -> Result<String, SimError> {
        let job = match spec.job {
            Job::PmReferral => "referral".to_owned(),
            Job::Pm => PRODUCT_MANAGER.to_owned(),
            Job::SeBeforeTag | Job::SeAfterTag => SOFTWARE_ENGINEER.to_owned(),
            Job::Om => OFFICE_MANAGER.to_owned(),
        };
        let role = match spec.job {
            Job::PmReferral => format!("a referral tagged for {PRODUCT_MANAGER} by hand"),
            _ => format!("{job} applicant"),
        };
        let id = self.lever.add_opportunity(seed)?;
        self.candidates.push(Candidate {
            id: id.clone(),
            label: spec.label.unwrap_or(spec.name).to_owned(),
            email: spec.email.clone(),
            job,
            role,
            interview: interview.map(str::to_owned),
            via_posting,
            declined_contact: spec.declined_contact,
            starts_in_trigger: spec.stage == TRIGGER_STAGE,
        });
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_of(interview: &DemoInterview) -> String {
        TagTemplate::parse(TagTemplate::DEFAULT)
            .unwrap()
            .render(&interview.title, ACCOUNT)
    }
    use crate::sim::lever::LeverSimConfig;
    use crate::sim::willo::WilloSimConfig;

    async fn seeded() -> (LeverSim, Demo) {
        let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
        let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
        let demo = Demo::seed(&lever, &willo).unwrap();
        assert_eq!(willo.interviews().len(), 2);
        (lever, demo)
    }

    #[tokio::test]
    async fn the_demo_holds_the_cast_the_story_needs() {
        let (lever, demo) = seeded().await;
        assert!((25..=35).contains(&demo.candidates.len()));
        assert_eq!(lever.opportunity_count(), demo.candidates.len() + 1);
        assert_eq!(lever.stages().len(), STAGES.len());
        let in_trigger: Vec<&Candidate> = demo
            .candidates
            .iter()
            .filter(|c| c.starts_in_trigger)
            .collect();
        for c in &in_trigger {
            let o = lever.opportunity(&c.id).unwrap();
            assert_eq!(o.stage, demo.trigger_stage, "{}", c.label);
        }
        // Most are not in the trigger stage yet; some are.
        assert!(in_trigger.len() >= 3 && in_trigger.len() < demo.candidates.len() / 2);
        assert!(
            in_trigger
                .iter()
                .any(|c| c.email.is_none() && c.interview.is_some())
        );
        let declined = in_trigger.iter().find(|c| c.declined_contact).unwrap();
        assert!(lever.opportunity(&declined.id).unwrap().contact_refused());
        assert!(demo.invited_at_start().count() >= 3);
    }

    #[tokio::test]
    async fn one_posting_was_tagged_after_its_first_applicants() {
        let (lever, demo) = seeded().await;
        let se_tag = &tag_of(&demo.interviews[1]);
        let se: Vec<&Candidate> = demo
            .candidates
            .iter()
            .filter(|c| c.job == SOFTWARE_ENGINEER)
            .collect();
        let (before, after): (Vec<&Candidate>, Vec<&Candidate>) =
            se.iter().partition(|c| c.via_posting);
        assert!(!before.is_empty() && !after.is_empty());
        for c in before {
            assert!(!lever.tags_of(&c.id).contains(se_tag), "{}", c.label);
        }
        for c in after {
            assert!(lever.tags_of(&c.id).contains(se_tag), "{}", c.label);
        }
        // The untagged job's candidates carry no interview tag at all.
        for c in demo.candidates.iter().filter(|c| c.job == OFFICE_MANAGER) {
            assert!(c.interview.is_none());
            assert!(
                lever
                    .tags_of(&c.id)
                    .iter()
                    .all(|t| !t.starts_with("Willo:"))
            );
        }
    }

    #[tokio::test]
    async fn one_person_holds_two_opportunities_connected_to_the_same_interview() {
        let (lever, demo) = seeded().await;
        let a = demo.candidate(&demo.actors.grace).unwrap();
        let b = demo.candidate(&demo.actors.grace_referral).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.email, b.email);
        assert_eq!(a.interview, b.interview);
        let (oa, ob) = (
            lever.opportunity(&a.id).unwrap(),
            lever.opportunity(&b.id).unwrap(),
        );
        assert_eq!(oa.contact, ob.contact);
        assert!(lever.tags_of(&b.id).contains(&tag_of(&demo.interviews[0])));
        // The catalog placeholder has no email, so it is never invited.
        assert!(
            lever
                .opportunity(&demo.catalog_opportunity)
                .unwrap()
                .emails
                .is_empty()
        );
    }

    #[test]
    fn emails_are_made_from_names() {
        assert_eq!(email_of("Ada Lovelace"), "ada.lovelace@example.com");
        assert_eq!(email_of("Tim Berners-Lee"), "tim.berners-lee@example.com");
    }
}
