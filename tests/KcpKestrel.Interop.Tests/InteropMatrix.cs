namespace KcpKestrel.Interop.Tests;

/// <summary>Every kcp-go cipher × {no FEC, 10/3, 3/2}.</summary>
public static class InteropMatrix
{
    public static readonly string[] KcpGoCiphers =
        ["aes", "aes-128", "aes-192", "salsa20", "blowfish", "twofish", "cast5", "3des", "tea", "xtea", "xor", "sm4", "none", "null"];

    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var crypt in KcpGoCiphers)
        {
            data.Add(crypt, 0, 0);
            data.Add(crypt, 10, 3);
            data.Add(crypt, 3, 2);
        }

        return data;
    }
}
