import ArgumentParser
import MarginServer

extension SettingKey {
    /// The flag without its `--`, as ArgumentParser names it.
    var longName: String { String((flag ?? "").dropFirst(2)) }

    /// The flag's help, as the catalogue words it.
    var argumentHelp: ArgumentHelp { ArgumentHelp(flagHelp ?? "") }
}

extension Option where Value == String? {
    /// The flag of `setting`, named and explained by the catalogue (`ServerSettings`).
    init(_ setting: Setting<some SettingType>) {
        self.init(name: .customLong(setting.key.longName), help: setting.key.argumentHelp)
    }
}

extension Option where Value == [String] {
    /// The repeatable flag of a list setting, named and explained by the catalogue.
    init(wrappedValue: [String], _ setting: Setting<[String]>) {
        self.init(wrappedValue: wrappedValue, name: .customLong(setting.key.longName), help: setting.key.argumentHelp)
    }
}

extension Flag where Value == Bool {
    /// The switch of a boolean setting, named and explained by the catalogue.
    init(wrappedValue: Bool, _ setting: Setting<Bool>) {
        self.init(wrappedValue: wrappedValue, name: .customLong(setting.key.longName), help: setting.key.argumentHelp)
    }
}
