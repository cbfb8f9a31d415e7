namespace KcpKestrel.Smux.Frames;

/// <summary>What <c>SmuxFrameCodec.TryParseHeader</c> made of the bytes.</summary>
internal enum SmuxParseStatus
{
    /// <summary>A valid header.</summary>
    Ok,

    /// <summary>Fewer than <see cref="SmuxFrameCodec.HeaderSize"/> bytes: read more.</summary>
    NeedMore,

    /// <summary>The version byte is not the session's (smux closes the session: ErrInvalidProtocol).</summary>
    WrongVersion,

    /// <summary>A command smux does not know, or UPD on a v1 session (smux closes the session).</summary>
    UnknownCommand,

    /// <summary>UPD whose length is not 8. smux reads 8 bytes whatever the length says; a peer that says otherwise is broken.</summary>
    BadUpdateLength,

    /// <summary>SYN, FIN or NOP with a payload; smux never sends one and would misparse the stream after it.</summary>
    UnexpectedPayload,
}
