//! The site and its areas: creating them, naming them, and the site's label address.

use super::{Fit, Register};
use crate::command::Context;
use crate::error::CommandError;
use crate::event::Change;
use crate::ids::{AreaId, SiteId};
use crate::label::normalise_address;
use crate::model::{Area, Site, SiteLabels};
use crate::normalise::tidy;

impl Register {
    pub(super) fn decide_create_site(
        &self,
        name: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let name = tidy(&name);
        if name.is_empty() {
            return Err(CommandError::SiteNameEmpty);
        }
        if self
            .sites
            .values()
            .any(|s| s.name.eq_ignore_ascii_case(&name))
        {
            return Err(CommandError::SiteNameTaken { name });
        }
        Ok(Change::SiteCreated {
            site: SiteId::generate(ctx.now, ctx.entropy),
            name,
        })
    }

    pub(super) fn decide_add_area(
        &self,
        site: SiteId,
        name: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let name = tidy(&name);
        if name.is_empty() {
            return Err(CommandError::AreaNameEmpty);
        }
        if self
            .areas_of(site.id)
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(&name))
        {
            return Err(CommandError::AreaNameTaken {
                site: site.name.clone(),
                name,
            });
        }
        Ok(Change::AreaAdded {
            area: AreaId::generate(ctx.now, ctx.entropy),
            site: site.id,
            name,
        })
    }

    /// `address` as typed: "https://keys.northgate.sch.uk", "http://192.168.1.20:8080/", or a
    /// bare host (https).
    pub(super) fn decide_site_labels(
        &self,
        site: SiteId,
        address: String,
        front_desk: String,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let (scheme, host) = normalise_address(&address)?;
        let front_desk = tidy(&front_desk);
        if front_desk.is_empty() {
            return Err(CommandError::FrontDeskMissing);
        }
        Ok(Change::SiteLabelsSet {
            site: site.id,
            labels: SiteLabels {
                host,
                scheme,
                front_desk,
            },
        })
    }

    /// A change that needs only its site to be known.
    pub(super) fn assess_site_known(&self, site: SiteId) -> Fit {
        if self.sites.contains_key(&site) {
            Fit::Fits
        } else {
            Fit::Unknown("its site is not in the register")
        }
    }

    pub(super) fn apply_site_created(&mut self, site: SiteId, name: &str) {
        self.sites.entry(site).or_insert_with(|| Site {
            id: site,
            name: name.to_string(),
            labels: None,
        });
    }

    pub(super) fn apply_area_added(&mut self, area: AreaId, site: SiteId, name: &str) {
        if self.sites.contains_key(&site) {
            self.areas.entry(area).or_insert_with(|| Area {
                id: area,
                site,
                name: name.to_string(),
            });
        }
    }

    pub(super) fn apply_site_labels(&mut self, site: SiteId, labels: &SiteLabels) {
        if let Some(s) = self.sites.get_mut(&site) {
            s.labels = Some(labels.clone());
        }
    }

    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.sites.values()
    }
    pub fn site(&self, id: SiteId) -> Option<&Site> {
        self.sites.get(&id)
    }
    pub fn area(&self, id: AreaId) -> Option<&Area> {
        self.areas.get(&id)
    }
    /// A site's areas by name.
    pub fn areas_of(&self, site: SiteId) -> Vec<&Area> {
        let mut areas: Vec<&Area> = self.areas.values().filter(|a| a.site == site).collect();
        areas.sort_by_key(|a| a.name.to_lowercase());
        areas
    }
}
