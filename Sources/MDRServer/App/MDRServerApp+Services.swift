import Logging
import MDRNotify
import MDRSyslog
import ServiceLifecycle

extension MDRServerApp {
    /// The syslog listener when `configuration.syslog` asks for one. It runs beside the processors, after the
    /// migrations (it reads `syslog_senders`), and stops before the database.
    static func syslogServices(services: AppServices, configuration: ServerConfiguration, logger: Logger) -> [any Service] {
        guard let syslog = configuration.syslog else { return [] }
        return [SyslogListener(configuration: syslog, commands: services.commands, database: services.database, logger: logger)]
    }
}

extension MDRServerApp {
    /// The notifier and the delivery worker when `configuration.notifications` is set.
    static func notificationServices(services: AppServices, configuration: ServerConfiguration, logger: Logger) -> [any Service] {
        guard let settings = configuration.notifications else { return [] }
        return NotificationDeliveryService.services(settings: settings, store: services.store, pollInterval: configuration.pollInterval, logger: logger)
    }
}
