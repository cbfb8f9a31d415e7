namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>When a listener answers SYNs with cookies instead of keeping half-open state (Linux's tcp_syncookies).</summary>
internal enum SynCookieMode : byte
{
    /// <summary>Never: SYNs past the backlog are dropped.</summary>
    Never,

    /// <summary>Once the listener's half-open count reaches the backlog (the default).</summary>
    WhenBacklogFull,

    /// <summary>For every SYN: no half-open state at all.</summary>
    Always,
}
