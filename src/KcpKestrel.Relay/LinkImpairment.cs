namespace KcpKestrel.Relay;

/// <summary>What a <see cref="LossyUdpRelay"/> does to each datagram, in each direction.</summary>
internal sealed record LinkImpairment
{
    /// <summary>Probability (0 to 1) that a datagram is dropped.</summary>
    public double Loss { get; init; }

    /// <summary>Fixed one-way delay.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Uniform extra delay from 0 to this.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>Probability that a datagram is held back behind later ones.</summary>
    public double Reorder { get; init; }

    /// <summary>Probability that a datagram is sent twice.</summary>
    public double Duplicate { get; init; }

    /// <summary>Probability that one bit of a datagram is flipped.</summary>
    public double Corrupt { get; init; }

    /// <summary>Seed of the random source, so a run can be repeated.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        CheckProbability(Loss, "--loss");
        CheckProbability(Reorder, "--reorder");
        CheckProbability(Duplicate, "--dup");
        CheckProbability(Corrupt, "--corrupt");
        if (Delay < TimeSpan.Zero || Delay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"--delay {Delay.TotalMilliseconds} is out of range; accepted: 0 to 10000 ms.");
        }

        if (Jitter < TimeSpan.Zero || Jitter > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"--jitter {Jitter.TotalMilliseconds} is out of range; accepted: 0 to 10000 ms.");
        }
    }

    private static void CheckProbability(double value, string flag)
    {
        if (double.IsNaN(value) || value is < 0 or > 1)
        {
            throw new ArgumentException($"{flag} {value} is out of range; accepted: a probability from 0 to 1 (0.05 is 5%).");
        }
    }
}
