namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// What a channel needs from the I/O loop that owns it. Channels sit below the loop: they only
/// ask it to flush their send batch at the end of the turn and borrow its one GRO receive batch.
/// </summary>
internal interface IDatagramLoop
{
    /// <summary>A receive batch with 64 KiB slots for GRO-coalesced datagrams, shared by the loop's channels.</summary>
    MessageBatch GroReceiveBatch { get; }

    /// <summary>Asks the loop to send <paramref name="channel"/>'s batch before it waits again.</summary>
    void QueueFlush(IDatagramChannel channel);
}
