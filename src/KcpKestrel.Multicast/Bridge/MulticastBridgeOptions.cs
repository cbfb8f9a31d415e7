namespace KcpKestrel.Multicast;

/// <summary>How the Kestrel bridge queues a topic's messages for each connected client.</summary>
public sealed class MulticastBridgeOptions
{
    /// <summary>Largest <see cref="QueueLimit"/>.</summary>
    public const int MaxQueueLimit = 1 << 20;

    /// <summary>
    /// Messages queued per client, 1 to <see cref="MaxQueueLimit"/>, default 1024. The receive thread
    /// never waits for a client: past this, <see cref="Overflow"/> applies, so a slow client costs at
    /// most this many pooled messages.
    /// </summary>
    public int QueueLimit { get; set; } = 1024;

    /// <summary>What happens to a client whose queue is full; default <see cref="MulticastBridgeOverflow.Disconnect"/>.</summary>
    public MulticastBridgeOverflow Overflow { get; set; } = MulticastBridgeOverflow.Disconnect;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of its range.</summary>
    public void Validate()
    {
        if (QueueLimit is < 1 or > MaxQueueLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueLimit), QueueLimit, $"QueueLimit must be 1 to {MaxQueueLimit}.");
        }

        if (!Enum.IsDefined(Overflow))
        {
            throw new ArgumentOutOfRangeException(nameof(Overflow), Overflow, "Overflow must be Disconnect or DropNewest.");
        }
    }
}
