namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// What a <see cref="LossyPacketSource"/> does to the packets of one direction: each packet is dropped with
/// probability <see cref="Loss"/>, else held back behind the next one with probability <see cref="Reorder"/>, and
/// sent twice with probability <see cref="Duplicate"/>. Zero everywhere is a perfect link.
/// </summary>
/// <param name="Loss">The chance a packet is dropped, 0 to 1.</param>
/// <param name="Reorder">The chance a packet swaps places with the one after it, 0 to 1.</param>
/// <param name="Duplicate">The chance a packet arrives twice, 0 to 1.</param>
internal readonly record struct LinkImpairment(double Loss, double Reorder = 0, double Duplicate = 0)
{
    /// <summary>No loss, no reordering, no duplicates.</summary>
    public static LinkImpairment None => default;

    /// <summary>True when any packet could be touched.</summary>
    public bool Active => Loss > 0 || Reorder > 0 || Duplicate > 0;

    /// <summary>Throws for a probability outside 0 to 1 (or NaN): a typo in a spec is an error, not a silent 0.</summary>
    public void Validate()
    {
        Check(Loss, nameof(Loss));
        Check(Reorder, nameof(Reorder));
        Check(Duplicate, nameof(Duplicate));
    }

    private static void Check(double p, string name)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(name, p, $"{name} is a probability: 0 to 1.");
        }
    }
}
