namespace KcpKestrel.Core.Arq;

/// <summary>
/// Bytes a receiver may hold for one peer (receive ring and queue, FEC shards, data not yet read by the
/// app). Whoever buffers asks first and gives back what it frees, so a peer cannot make the receiver hold
/// more than the budget whatever it sends. Loop thread only.
/// </summary>
internal interface IReceiveBudget
{
    /// <summary>Bytes that could still be held now; the advertised window is cut to fit it.</summary>
    long Available { get; }

    /// <summary>Takes <paramref name="bytes"/> from the budget; false, and nothing taken, when they do not fit.</summary>
    bool TryHold(int bytes);

    /// <summary>Gives back <paramref name="bytes"/> taken earlier.</summary>
    void Release(int bytes);
}
