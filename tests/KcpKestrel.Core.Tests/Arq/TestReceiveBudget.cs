using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>A receive budget whose limit a test moves at will; records what is held.</summary>
internal sealed class TestReceiveBudget(long limit) : IReceiveBudget
{
    public long Limit { get; set; } = limit;

    public long Held { get; private set; }

    public long Refused { get; private set; }

    public long PeakHeld { get; private set; }

    public long Available => Limit - Held;

    public bool TryHold(int bytes)
    {
        if (Held + bytes > Limit)
        {
            Refused++;
            return false;
        }

        Held += bytes;
        PeakHeld = Math.Max(PeakHeld, Held);
        return true;
    }

    public void Release(int bytes) => Held -= bytes;
}
