namespace KcpKestrel.Smux.Session;

/// <summary>What the I/O shell must do with a received frame, as <see cref="SmuxSessionCore"/> decided.</summary>
internal enum SmuxReceiveAction
{
    /// <summary>Nothing (NOP, or a frame smux would ignore too). A PSH payload is skipped.</summary>
    Ignore,

    /// <summary>A new stream from the peer: hand it to the accept queue.</summary>
    Accept,

    /// <summary>A SYN past MaxStreams or AcceptBacklog: answer with FIN.</summary>
    Refuse,

    /// <summary>Deliver the PSH payload to the stream's input.</summary>
    Deliver,

    /// <summary>The peer half-closed the stream: complete its input once buffered data is read.</summary>
    RemoteFin,

    /// <summary>The v2 window grew: the stream's pending output may move again.</summary>
    WindowUpdated,

    /// <summary>The stream broke the protocol (window overflow): fail its input, send FIN, forget it.</summary>
    ResetStream,

    /// <summary>The session broke the protocol: close it (<see cref="SmuxSessionCore.CloseReason"/> says why).</summary>
    CloseSession,
}
