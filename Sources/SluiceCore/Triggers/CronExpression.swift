import Foundation

/// A standard five-field cron expression (`minute hour day-of-month month day-of-week`) in a
/// time zone: `*`, lists, ranges, steps (`*/15`, `1-5/2`), month and weekday names, 0 or 7 for
/// Sunday. As in Vixie cron, when both day fields are restricted a day matches either.
public struct CronExpression: Sendable, Equatable {
    public let text: String
    public let timeZone: TimeZone
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
    }

    public init(_ text: String, timeZone: TimeZone = .current) throws(ParseError) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else { throw ParseError(message: "'\(text)' has \(fields.count) fields; cron needs 5 (minute hour day month weekday)") }
        self.text = text
        self.timeZone = timeZone
        minutes = try Self.field(fields[0], "minute", 0...59, names: [:])
        hours = try Self.field(fields[1], "hour", 0...23, names: [:])
        days = try Self.field(fields[2], "day of month", 1...31, names: [:])
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames)
        weekdays = Set(try Self.field(fields[4], "day of week", 0...7, names: Self.weekdayNames).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static let monthNames = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
    static let weekdayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    private static func field(_ text: String, _ name: String, _ bounds: ClosedRange<Int>, names: [String: Int]) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.lowercased().split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(message: "\(name) '\(part)': more than one /") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw ParseError(message: "\(name) '\(part)': bad step") }
                step = parsed
            }
            var range: ClosedRange<Int>
            if pieces[0] == "*" {
                range = bounds
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                func value(_ token: Substring) throws(ParseError) -> Int {
                    if let number = Int(token) { return number }
                    if let named = names[String(token)] { return named }
                    throw ParseError(message: "\(name) '\(part)': '\(token)' is not a number\(names.isEmpty ? "" : " or name")")
                }
                guard ends.count <= 2 else { throw ParseError(message: "\(name) '\(part)': bad range") }
                let low = try value(ends[0])
                let high = ends.count == 2 ? try value(ends[1]) : (pieces.count == 2 ? bounds.upperBound : low)
                guard low <= high else { throw ParseError(message: "\(name) '\(part)': range runs backwards") }
                range = low...high
            }
            guard bounds.contains(range.lowerBound), bounds.contains(range.upperBound) else {
                throw ParseError(message: "\(name) '\(part)' is outside \(bounds.lowerBound)-\(bounds.upperBound)")
            }
            values.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return values
    }

    /// The first matching minute strictly after `date`, or nil if none within five years.
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard var candidate = calendar.date(bySetting: .second, value: 0, of: date.addingTimeInterval(60)) else { return nil }
        if candidate <= date { candidate = candidate.addingTimeInterval(60) }
        candidate = calendar.dateInterval(of: .minute, for: candidate)?.start ?? candidate
        let limit = date.addingTimeInterval(5 * 366 * 86400)
        while candidate < limit {
            let parts = calendar.dateComponents([.month, .day, .weekday, .hour, .minute], from: candidate)
            guard let month = parts.month, let day = parts.day, let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return nil }
            if !months.contains(month) {
                guard let start = calendar.dateInterval(of: .month, for: candidate)?.end else { return nil }
                candidate = start
                continue
            }
            if !dayMatches(day: day, weekday: weekday - 1) {
                guard let end = calendar.dateInterval(of: .day, for: candidate)?.end else { return nil }
                candidate = end
                continue
            }
            if !hours.contains(hour) {
                guard let end = calendar.dateInterval(of: .hour, for: candidate)?.end else { return nil }
                candidate = end
                continue
            }
            if !minutes.contains(minute) {
                candidate = candidate.addingTimeInterval(60)
                continue
            }
            return candidate
        }
        return nil
    }

    /// Every matching minute in `(from, through]`, oldest first, at most `limit` (the newest ones).
    public func times(after from: Date, through: Date, limit: Int) -> [Date] {
        var times: [Date] = []
        var cursor = from
        while let next = next(after: cursor), next <= through {
            times.append(next)
            if times.count > limit { times.removeFirst() }
            cursor = next
        }
        return times
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }
}
