import MDRDomain
import Testing

@Suite("Priority")
struct PriorityTests {
    @Test func prioritiesOrderByUrgencySoTheMostUrgentIsTheMaximum() {
        #expect(Priority.allCases.max() == .p1)
        #expect(Priority.p4 < Priority.p3)
        #expect([Priority.p3, .p1, .p2].sorted() == [.p3, .p2, .p1])
    }

    @Test func onlyP1AndP2AreHigh() {
        #expect(Priority.allCases.filter(\.isHigh) == [.p1, .p2])
    }
}
