import Foundation

/// What a monitored device is, for billing: workstations are priced per month under Werkplek Veilig; servers are
/// listed apart (the seed prices workstations only).
public enum DeviceKind: String, Sendable, Codable, CaseIterable {
    case workstation
    case server
}

/// One stretch of time in which a device was monitored: from its enrolment until its offboarding (open while it
/// is still monitored).
public struct MonitoringPeriod: Hashable, Sendable, Codable {
    public var from: Date
    public var until: Date?

    public init(from: Date, until: Date?) {
        self.from = from
        self.until = until
    }

    /// Whether the period shares any instant with `[start, end)`.
    public func overlaps(start: Date, end: Date) -> Bool {
        from < end && (until ?? .distantFuture) > start
    }
}

/// A device of the tenant's inventory with every period it was monitored.
public struct InventoryDevice: Hashable, Sendable, Codable {
    public var deviceID: DeviceID
    public var kind: DeviceKind
    public var name: String?
    /// Oldest first; only the last may be open.
    public var periods: [MonitoringPeriod]

    /// Monitored now: its last period is open.
    public var isMonitored: Bool { periods.last.map { $0.until == nil } ?? false }
}

/// The tenant's monitored devices as the inventory stream makes them (stream `device-inventory`). Billing counts
/// from it; the SOC's isolation state lives on the devices' own streams.
public struct DeviceInventory: Hashable, Sendable {
    public var devices: [DeviceID: InventoryDevice] = [:]

    public init(devices: [DeviceID: InventoryDevice] = [:]) {
        self.devices = devices
    }

    /// The devices monitored at any instant of `[start, end)`, sorted by id.
    public func monitored(between start: Date, and end: Date) -> [InventoryDevice] {
        devices.values.filter { $0.periods.contains { $0.overlaps(start: start, end: end) } }.sorted { $0.deviceID < $1.deviceID }
    }

    /// The devices monitored now, sorted by id.
    public var current: [InventoryDevice] { devices.values.filter(\.isMonitored).sorted { $0.deviceID < $1.deviceID } }
}

extension StreamName {
    /// A tenant's device inventory: enrolments and offboardings of monitored devices.
    public static let deviceInventory = StreamName(rawValue: "device-inventory")
}

// MARK: Events

/// A device came under monitoring (enrolled through Intune / Defender onboarding), from `monitoredFrom`.
public struct DeviceEnrolled: DomainEventPayload {
    public static let eventType = "DeviceEnrolled"
    public var deviceID: DeviceID
    public var kind: DeviceKind
    public var name: String?
    /// When monitoring of the device began; may lie before `recordedAt` (a connector reporting late), never after.
    public var monitoredFrom: Date
    public var enrolledBy: String
    public var recordedAt: Date

    public init(deviceID: DeviceID, kind: DeviceKind, name: String?, monitoredFrom: Date, enrolledBy: String, recordedAt: Date) {
        self.deviceID = deviceID
        self.kind = kind
        self.name = name
        self.monitoredFrom = monitoredFrom
        self.enrolledBy = enrolledBy
        self.recordedAt = recordedAt
    }
}

/// A device is no longer monitored (retired, replaced, offboarded), from `monitoredUntil`.
public struct DeviceOffboarded: DomainEventPayload {
    public static let eventType = "DeviceOffboarded"
    public var deviceID: DeviceID
    public var monitoredUntil: Date
    public var reason: String?
    public var offboardedBy: String
    public var recordedAt: Date

    public init(deviceID: DeviceID, monitoredUntil: Date, reason: String?, offboardedBy: String, recordedAt: Date) {
        self.deviceID = deviceID
        self.monitoredUntil = monitoredUntil
        self.reason = reason
        self.offboardedBy = offboardedBy
        self.recordedAt = recordedAt
    }
}

// MARK: Command

/// A change to the inventory: devices to enrol and devices to offboard, all effective at one instant.
public struct UpdateDeviceInventory: Sendable, Equatable {
    public struct Enrolment: Sendable, Equatable, Codable {
        public var deviceID: DeviceID
        public var kind: DeviceKind
        public var name: String?

        public init(deviceID: DeviceID, kind: DeviceKind, name: String? = nil) {
            self.deviceID = deviceID
            self.kind = kind
            self.name = name
        }
    }

    public struct Offboarding: Sendable, Equatable, Codable {
        public var deviceID: DeviceID
        public var reason: String?

        public init(deviceID: DeviceID, reason: String? = nil) {
            self.deviceID = deviceID
            self.reason = reason
        }
    }

    /// The most devices one change may name.
    public static let maxDevices = 5000

    public var enrol: [Enrolment]
    public var offboard: [Offboarding]
    /// When the change took effect; nil means now. Never in the future.
    public var effectiveAt: Date?
    public var by: String
    public var at: Date

    public init(enrol: [Enrolment], offboard: [Offboarding], effectiveAt: Date?, by: String, at: Date) {
        self.enrol = enrol
        self.offboard = offboard
        self.effectiveAt = effectiveAt
        self.by = by
        self.at = at
    }
}

/// What an inventory change did, device by device.
public struct DeviceInventoryChange: Sendable, Equatable, Codable {
    public var enrolled: [DeviceID]
    public var offboarded: [DeviceID]
    /// Enrolments of devices already monitored as the same kind: nothing to record (a connector's repeated sync).
    public var unchanged: [DeviceID]
    public var effectiveAt: Date
    /// The devices monitored after the change.
    public var workstations: Int
    public var servers: Int
}

// MARK: Decider

public enum DeviceInventoryDecider: Decider {
    public typealias Command = UpdateDeviceInventory
    public typealias Event = DomainEvent

    public static let initialState = DeviceInventory()

    /// A connector's clock may run a little ahead of ours; more than this is a mistake, not skew.
    public static let allowedClockSkew: TimeInterval = 300

    public static func decide(_ c: UpdateDeviceInventory, _ state: DeviceInventory) throws(DomainError) -> [DomainEvent] {
        guard !c.enrol.isEmpty || !c.offboard.isEmpty else {
            throw DomainError(.inventoryChangeEmpty, .invalid, "name at least one device to enrol or to offboard")
        }
        guard c.enrol.count + c.offboard.count <= UpdateDeviceInventory.maxDevices else {
            throw DomainError(
                .inventoryChangeTooLarge, .invalid,
                "one change may name at most \(UpdateDeviceInventory.maxDevices) devices: split it (\(c.enrol.count + c.offboard.count) named)")
        }
        let effective = c.effectiveAt ?? c.at
        guard effective <= c.at.addingTimeInterval(allowedClockSkew) else {
            throw DomainError(.effectiveTimeInFuture, .invalid, "effectiveAt lies in the future: record a change once it has happened")
        }
        var seen = Set<DeviceID>()
        for id in c.enrol.map(\.deviceID) + c.offboard.map(\.deviceID) where !seen.insert(id).inserted {
            throw DomainError(.deviceListedTwice, .invalid, "device '\(id)' is named twice in one change")
        }

        var events: [DomainEvent] = []
        for e in c.enrol {
            let name = e.name?.trimmingSpaces
            if let name, name.count > 200 || name.containsControlCharacter {
                throw DomainError(.invalidField, .invalid, "enrol: the name of device '\(e.deviceID)' must be at most 200 printable characters")
            }
            if let device = state.devices[e.deviceID] {
                if device.isMonitored {
                    guard device.kind == e.kind else {
                        throw DomainError(
                            .deviceKindConflict, .conflict,
                            "device '\(e.deviceID)' is monitored as a \(device.kind.rawValue): offboard it first to enrol it as a \(e.kind.rawValue)")
                    }
                    continue
                }
                if let last = device.periods.last?.until, effective < last {
                    throw DomainError(
                        .devicePeriodsOverlap, .conflict,
                        "device '\(e.deviceID)' was monitored until \(Timestamp.format(last)): it cannot be enrolled again from an earlier time")
                }
            }
            events.append(
                .deviceEnrolled(
                    DeviceEnrolled(
                        deviceID: e.deviceID, kind: e.kind, name: name?.isEmpty == true ? nil : name, monitoredFrom: effective,
                        enrolledBy: c.by, recordedAt: c.at)))
        }
        for o in c.offboard {
            guard let device = state.devices[o.deviceID], device.isMonitored, let from = device.periods.last?.from else {
                throw DomainError(.deviceNotEnrolled, .conflict, "device '\(o.deviceID)' is not monitored: nothing to offboard")
            }
            guard effective >= from else {
                throw DomainError(
                    .offboardBeforeEnrolment, .invalid,
                    "device '\(o.deviceID)' is monitored from \(Timestamp.format(from)): it cannot be offboarded before that")
            }
            let reason = o.reason?.trimmingSpaces
            if let reason, reason.count > 500 {
                throw DomainError(.invalidField, .invalid, "offboard: a reason is at most 500 characters")
            }
            events.append(
                .deviceOffboarded(
                    DeviceOffboarded(
                        deviceID: o.deviceID, monitoredUntil: effective, reason: reason?.isEmpty == true ? nil : reason, offboardedBy: c.by,
                        recordedAt: c.at)))
        }
        return events
    }

    public static func evolve(_ state: DeviceInventory, _ event: DomainEvent) -> DeviceInventory {
        var state = state
        switch event {
        case .deviceEnrolled(let e):
            var device = state.devices[e.deviceID] ?? InventoryDevice(deviceID: e.deviceID, kind: e.kind, name: e.name, periods: [])
            device.kind = e.kind
            device.name = e.name ?? device.name
            device.periods.append(MonitoringPeriod(from: e.monitoredFrom, until: nil))
            state.devices[e.deviceID] = device
        case .deviceOffboarded(let e):
            if var device = state.devices[e.deviceID], let last = device.periods.indices.last {
                device.periods[last].until = e.monitoredUntil
                state.devices[e.deviceID] = device
            }
        default: break
        }
        return state
    }

    /// The change report of a decided command: what was enrolled, offboarded and left as it was.
    public static func change(_ c: UpdateDeviceInventory, events: [DomainEvent], after: DeviceInventory) -> DeviceInventoryChange {
        var enrolled: [DeviceID] = [], offboarded: [DeviceID] = []
        for event in events {
            switch event {
            case .deviceEnrolled(let e): enrolled.append(e.deviceID)
            case .deviceOffboarded(let e): offboarded.append(e.deviceID)
            default: break
            }
        }
        let changed = Set(enrolled)
        let current = after.current
        return DeviceInventoryChange(
            enrolled: enrolled, offboarded: offboarded, unchanged: c.enrol.map(\.deviceID).filter { !changed.contains($0) },
            effectiveAt: c.effectiveAt ?? c.at, workstations: current.count { $0.kind == .workstation },
            servers: current.count { $0.kind == .server })
    }
}

extension DomainError.Code {
    // Device inventory
    public static let inventoryChangeEmpty: Self = "inventory_change_empty"
    public static let inventoryChangeTooLarge: Self = "inventory_change_too_large"
    public static let effectiveTimeInFuture: Self = "effective_time_in_future"
    public static let deviceListedTwice: Self = "device_listed_twice"
    public static let deviceKindConflict: Self = "device_kind_conflict"
    public static let devicePeriodsOverlap: Self = "device_periods_overlap"
    public static let deviceNotEnrolled: Self = "device_not_enrolled"
    public static let offboardBeforeEnrolment: Self = "offboard_before_enrolment"
    // Billing
    public static let invalidMonth: Self = "invalid_month"
}
