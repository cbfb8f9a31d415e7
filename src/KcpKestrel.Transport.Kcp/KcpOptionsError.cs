namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// A <see cref="KcpOptions"/> setting that is not valid: which one, its value and what it accepts, so
/// configuration and command-line front ends can name their own key or flag.
/// </summary>
public sealed class KcpOptionsError
{
    /// <summary>Creates an error.</summary>
    /// <param name="setting">The <see cref="KcpOptions"/> property name.</param>
    /// <param name="value">The value as text.</param>
    /// <param name="accepted">What is accepted, in words.</param>
    /// <param name="otherSetting">The second setting of a rule between two settings, or null.</param>
    public KcpOptionsError(string setting, string value, string accepted, string? otherSetting = null)
    {
        Setting = setting;
        Value = value;
        Accepted = accepted;
        OtherSetting = otherSetting;
    }

    /// <summary>The <see cref="KcpOptions"/> property name (for a rule between two settings, the first).</summary>
    public string Setting { get; }

    /// <summary>The value as text (both values, as <c>10/0</c>, for a rule between two settings).</summary>
    public string Value { get; }

    /// <summary>What is accepted, in words ("100 to 1500 bytes").</summary>
    public string Accepted { get; }

    /// <summary>The other setting of a rule between two (ParityShards with DataShards); null for one setting.</summary>
    public string? OtherSetting { get; }

    /// <summary>"KCP option {Setting} = {Value} is not valid; accepted: {Accepted}."</summary>
    public string Message => $"KCP option {Setting} = {Value} is not valid; accepted: {Accepted}.";

    /// <inheritdoc />
    public override string ToString() => Message;
}
