namespace KcpKestrel.Smux.Frames;

/// <summary>smux's frame commands (frame.go); UPD exists only in version 2.</summary>
internal enum SmuxCommand : byte
{
    /// <summary>Stream open.</summary>
    Syn = 0,

    /// <summary>Stream half-close (EOF mark).</summary>
    Fin = 1,

    /// <summary>Data push.</summary>
    Psh = 2,

    /// <summary>Keepalive; carries nothing.</summary>
    Nop = 3,

    /// <summary>v2 window update: <c>consumed u32 LE | window u32 LE</c>.</summary>
    Upd = 4,
}
