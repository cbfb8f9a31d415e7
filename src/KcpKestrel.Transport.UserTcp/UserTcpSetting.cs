using System.Globalization;

namespace KcpKestrel.Transport.UserTcp;

/// <summary>
/// One <see cref="UserTcpOptions"/> setting as validation and help see it: its name, its range as a number (durations
/// in ms, booleans 0 or 1) and what it accepts in words.
/// </summary>
internal sealed class UserTcpSetting
{
    /// <summary>The <see cref="UserTcpOptions"/> property name.</summary>
    public required string Name { get; init; }

    /// <summary>Smallest accepted value (ms for a duration).</summary>
    public required long Min { get; init; }

    /// <summary>Largest accepted value (ms for a duration).</summary>
    public required long Max { get; init; }

    /// <summary>What is accepted, in words ("576 to 65535 bytes").</summary>
    public required string Accepted { get; init; }

    /// <summary>Whether the value is a duration (shown in ms).</summary>
    public bool IsDuration { get; init; }

    /// <summary>Reads the setting as a number (durations in whole ms, booleans 0 or 1).</summary>
    public required Func<UserTcpOptions, long> Get { get; init; }

    /// <summary>A value as messages show it.</summary>
    public string Format(long value) =>
        value.ToString(CultureInfo.InvariantCulture) + (IsDuration ? " ms" : string.Empty);
}
