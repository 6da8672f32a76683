import Foundation
import Testing

@testable import MDRDomain

/// Ownership and notes (issue 17): the SOC assigns incidents and writes working notes on them.
@Suite struct IncidentOwnershipTests {
    let at = Fixtures.t0(plusMinutes: 15)
    let by = Fixtures.analyst

    @Test func anIncidentIsAssignedReassignedAndUnassignedAndTheSameAssigneeAgainRecordsNothing() throws {
        var incident = Fixtures.openIncident()
        let events = try IncidentDecider.decide(.assign(to: " oidc:anna ", by: by, at: at), incident)
        #expect(events == [.incidentAssigned(IncidentAssigned(incidentID: incident.id, assignee: "oidc:anna", assignedBy: by.id, assignedAt: at))])
        incident = try #require(IncidentDecider.fold(events, from: incident))
        #expect(incident.assignee == "oidc:anna")
        #expect(try IncidentDecider.decide(.assign(to: "oidc:anna", by: by, at: at), incident).isEmpty)
        incident = try #require(IncidentDecider.fold(try IncidentDecider.decide(.assign(to: nil, by: by, at: at), incident), from: incident))
        #expect(incident.assignee == nil)
        #expect(try IncidentDecider.decide(.assign(to: nil, by: by, at: at), incident).isEmpty)
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in try IncidentDecider.decide(.assign(to: " ", by: by, at: at), incident) }
    }

    @Test func aClosedIncidentIsNotAssignedButTakesNotes() throws {
        let dismissed = Fixtures.dismissedIncident()
        expectRefusal(.incidentDismissed, .conflict) { () throws(DomainError) in
            try IncidentDecider.decide(.assign(to: "oidc:anna", by: by, at: at), dismissed)
        }
        let noted = try #require(
            IncidentDecider.fold(try IncidentDecider.decide(.addNote(text: "  post-mortem: the admin's script  ", by: by, at: at), dismissed), from: dismissed))
        #expect(noted.notes == [IncidentNote(text: "post-mortem: the admin's script", author: by.id, addedAt: at)])
    }

    @Test func anEmptyOrTooLongNoteIsRefused() {
        let open = Fixtures.openIncident()
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in try IncidentDecider.decide(.addNote(text: " \n ", by: by, at: at), open) }
        expectRefusal(.invalidField, .invalid) { () throws(DomainError) in
            try IncidentDecider.decide(.addNote(text: String(repeating: "x", count: 4001), by: by, at: at), open)
        }
        expectRefusal(.incidentNotFound, .notFound) { () throws(DomainError) in try IncidentDecider.decide(.addNote(text: "x", by: by, at: at), nil) }
    }
}
