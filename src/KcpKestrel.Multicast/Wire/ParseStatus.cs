namespace KcpKestrel.Multicast.Wire;

/// <summary>Why a datagram was accepted or dropped; every drop is counted, none throws.</summary>
internal enum ParseStatus
{
    Ok,

    /// <summary>Shorter than the header, or than its kind's fixed body.</summary>
    Truncated,
    BadMagic,
    BadVersion,
    UnknownKind,

    /// <summary>Reserved flag bits set.</summary>
    BadFlags,

    /// <summary>A fixed-size body with bytes left over.</summary>
    BadLength,

    /// <summary>A frame whose length runs past the datagram, or a Data packet without frames.</summary>
    BadFrame,

    /// <summary>A fragment whose total length is smaller than its own payload, or a whole frame with a total.</summary>
    BadFragment,

    /// <summary>A NAK or Gone count of zero, above the limit, or past the end of the sequence space.</summary>
    BadCount,

    /// <summary>Sequence 0 (reserved: "nothing sent yet").</summary>
    BadSequence,
}
