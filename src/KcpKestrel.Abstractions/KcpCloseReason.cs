namespace KcpKestrel.Transport.Kcp;

/// <summary>Why a KCP session ended.</summary>
public enum KcpCloseReason
{
    /// <summary>Still open.</summary>
    None,

    /// <summary>Our side finished writing and every byte was acknowledged.</summary>
    LocalClose,

    /// <summary>The peer (a KcpKestrel peer) closed the session.</summary>
    RemoteClose,

    /// <summary>Our side aborted it.</summary>
    Aborted,

    /// <summary>Nothing arrived for the idle timeout.</summary>
    IdleTimeout,

    /// <summary>A segment was retransmitted dead-link times without an acknowledgement.</summary>
    DeadLink,

    /// <summary>The same peer address opened a new conversation, replacing this one.</summary>
    Replaced,

    /// <summary>The listener or client shut down.</summary>
    Shutdown,

    /// <summary>The listener's receive budget was spent and this session held the most of it.</summary>
    MemoryPressure,
}
