namespace KcpKestrel.Multicast;

/// <summary>What the bridge does with a client whose queue is full (it reads slower than the topic flows).</summary>
public enum MulticastBridgeOverflow
{
    /// <summary>Close the connection: the client sees a clean end rather than a stream with holes, and reconnects.</summary>
    Disconnect = 0,

    /// <summary>Drop the message for that client only and keep it connected (for topics where the latest value matters, not every one).</summary>
    DropNewest = 1,
}
