namespace KcpKestrel.Transport.Kcp;

/// <summary>The value type of a <see cref="KcpSetting"/>, which says how it is parsed, checked and shown.</summary>
internal enum KcpSettingKind
{
    /// <summary>An <see cref="int"/> from <see cref="KcpSetting.Min"/> to <see cref="KcpSetting.Max"/>.</summary>
    Int32,

    /// <summary>A <see cref="long"/> from <see cref="KcpSetting.Min"/> to <see cref="KcpSetting.Max"/>.</summary>
    Int64,

    /// <summary>A <see cref="bool"/>.</summary>
    Boolean,

    /// <summary>A <see cref="TimeSpan"/> whose ticks are from <see cref="KcpSetting.Min"/> to <see cref="KcpSetting.Max"/>.</summary>
    Duration,

    /// <summary>One value of an enum; <see cref="KcpSetting.Names"/> are its names.</summary>
    Enum,

    /// <summary>A string: one of <see cref="KcpSetting.Names"/> (case-insensitive), or any text when they are null.</summary>
    String,
}
